/**
 * `tuneloop serve --http`: the MCP server over Streamable HTTP (src/http/server.ts) for clients that
 * cannot start a process on this host. One process, one runtime, many sessions. SIGINT, SIGTERM or
 * SIGHUP stop it like the stdio server stops: sessions closed, schedulers detached, running jobs
 * marked interrupted, children killed, SQLite closed.
 */
import type { Config } from '../core/config.js';
import { killAllChildrenNow } from '../core/exec.js';
import { createRuntime } from '../core/runtime.js';
import { allMigrations } from '../migrations.js';
import type { HttpOptions } from '../http/access.js';
import { startHttpServer } from '../http/server.js';

export async function serveHttp(config: Config, options: HttpOptions): Promise<void> {
  for (const method of ['log', 'info', 'debug', 'dir', 'table'] as const) {
    (console as unknown as Record<string, unknown>)[method] = console.error;
  }
  const runtime = createRuntime(config, allMigrations);
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    http = await startHttpServer(runtime, options);
  } catch (error) {
    await runtime.shutdown();
    throw error;
  }
  let stopping = false;
  const stop = (why: string, code = 0): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`tuneloop: stopping (${why})\n`);
    setTimeout(() => process.exit(code), 5000).unref();
    http
      .close()
      .then(() => runtime.shutdown())
      .finally(() => process.exit(code));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  process.on('exit', killAllChildrenNow);
  process.on('uncaughtException', (error) => {
    process.stderr.write(`tuneloop: uncaught exception: ${error.stack ?? error}\n`);
    stop('uncaught exception', 1);
  });
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`tuneloop: unhandled rejection: ${(reason as Error)?.stack ?? reason}\n`);
  });
  const auth = options.tokens.length ? `bearer token required (${options.tokens.length} accepted)` : 'NO authentication: every local user can call its tools';
  process.stderr.write(`tuneloop: serving MCP over HTTP at ${http.url} (${auth})\n`);
}
