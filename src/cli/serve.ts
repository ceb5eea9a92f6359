/**
 * The stdio server process. Stdout is the JSON-RPC channel and nothing else may write to it, so
 * console output is redirected to stderr before anything else loads. The v1 stdio transport does
 * not end the process when stdin closes: we listen for that ourselves, and for SIGINT/SIGTERM, and
 * shut down (schedulers detached, jobs interrupted, children killed, SQLite closed) before exiting.
 *
 * --keep-jobs (what `tuneloop call` starts): when stdin closes while jobs run, the server drops the
 * MCP session and keeps running those jobs, exiting (as above) once the last one ends; SIGINT or
 * SIGTERM still stop it at once. Other sessions see and cancel the jobs through the shared store.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Config } from '../core/config.js';
import { killAllChildrenNow } from '../core/exec.js';
import { createServer } from '../server.js';

export interface ServeOptions {
  keepJobs?: boolean;
}

const LINGER_POLL_MS = 500;

export async function serve(config: Config, options: ServeOptions = {}): Promise<void> {
  for (const method of ['log', 'info', 'debug', 'dir', 'table'] as const) {
    (console as unknown as Record<string, unknown>)[method] = console.error;
  }
  const { server, runtime, close } = createServer(config);
  const transport = new StdioServerTransport();

  let stopping = false;
  const stop = (why: string, code = 0): void => {
    if (stopping) return;
    stopping = true;
    if (process.env.TUNELOOP_DEBUG) process.stderr.write(`tuneloop: stopping (${why})\n`);
    // Never hang on the way out: whatever is not done in 5 s is killed with the process.
    setTimeout(() => process.exit(code), 5000).unref();
    close().finally(() => process.exit(code));
  };
  let lingering = false;
  const stdinGone = (why: string): void => {
    if (!options.keepJobs || runtime.jobs.runningCount() === 0) return stop(why);
    if (lingering) return;
    lingering = true;
    // Nobody reads our stdout or stderr any more: the session ends, and a write to a closed pipe is no error.
    process.stdout.on('error', () => {});
    process.stderr.on('error', () => {});
    void server.close().catch(() => {});
    const poll = setInterval(() => {
      if (runtime.jobs.runningCount() > 0) return;
      clearInterval(poll);
      stop(`${why}; jobs finished`);
    }, LINGER_POLL_MS);
  };
  process.stdin.on('end', () => stdinGone('stdin ended'));
  process.stdin.on('close', () => stdinGone('stdin closed'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // A server keeping jobs for a `tuneloop call` that left runs in its own session: no terminal hangs it up.
  process.on('SIGHUP', () => (options.keepJobs ? undefined : stop('SIGHUP')));
  process.on('exit', killAllChildrenNow);
  process.on('uncaughtException', (error) => {
    process.stderr.write(`tuneloop: uncaught exception: ${error.stack ?? error}\n`);
    stop('uncaught exception', 1);
  });
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`tuneloop: unhandled rejection: ${(reason as Error)?.stack ?? reason}\n`);
  });
  await server.connect(transport);
}
