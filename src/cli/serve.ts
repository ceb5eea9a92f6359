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
import { createServer } from '../server.js';
import { consoleToStderr, stopOnSignalsAndCrashes, stopper } from './lifecycle.js';

export interface ServeOptions {
  keepJobs?: boolean;
}

const LINGER_POLL_MS = 500;

export async function serve(config: Config, options: ServeOptions = {}): Promise<void> {
  consoleToStderr();
  const { server, runtime, close } = createServer(config);
  const transport = new StdioServerTransport();
  const stop = stopper(close);
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
  // A server keeping jobs for a `tuneloop call` that left runs in its own session: no terminal hangs it up.
  stopOnSignalsAndCrashes(stop, { ignoreHangup: options.keepJobs });
  await server.connect(transport);
}
