/**
 * `tuneloop serve --http`: the MCP server over Streamable HTTP (src/http/server.ts) for clients that
 * cannot start a process on this host. One process, one runtime, many sessions. SIGINT, SIGTERM or
 * SIGHUP stop it like the stdio server stops: sessions closed, schedulers detached, running jobs
 * marked interrupted, children killed, SQLite closed.
 */
import type { Config } from '../core/config.js';
import { createRuntime } from '../core/runtime.js';
import { allMigrations } from '../migrations.js';
import type { HttpOptions } from '../http/access.js';
import { startHttpServer } from '../http/server.js';
import { consoleToStderr, stopOnSignalsAndCrashes, stopper } from './lifecycle.js';

export async function serveHttp(config: Config, options: HttpOptions): Promise<void> {
  consoleToStderr();
  const runtime = createRuntime(config, allMigrations);
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    http = await startHttpServer(runtime, options);
  } catch (error) {
    await runtime.shutdown();
    throw error;
  }
  stopOnSignalsAndCrashes(stopper(() => http.close().then(() => runtime.shutdown()), true));
  const auth = options.tokens.length ? `bearer token required (${options.tokens.length} accepted)` : 'NO authentication: every local user can call its tools';
  process.stderr.write(`tuneloop: serving MCP over HTTP at ${http.url} (${auth})\n`);
}
