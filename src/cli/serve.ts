/**
 * The stdio server process. Stdout is the JSON-RPC channel and nothing else may write to it, so
 * console output is redirected to stderr before anything else loads. The v1 stdio transport does
 * not end the process when stdin closes: we listen for that ourselves, and for SIGINT/SIGTERM, and
 * shut down (schedulers detached, jobs interrupted, children killed, SQLite closed) before exiting.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Config } from '../core/config.js';
import { killAllChildrenNow } from '../core/exec.js';
import { createServer } from '../server.js';

export async function serve(config: Config): Promise<void> {
  for (const method of ['log', 'info', 'debug', 'dir', 'table'] as const) {
    (console as unknown as Record<string, unknown>)[method] = console.error;
  }
  const { server, close } = createServer(config);
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
  process.stdin.on('end', () => stop('stdin ended'));
  process.stdin.on('close', () => stop('stdin closed'));
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
  await server.connect(transport);
}
