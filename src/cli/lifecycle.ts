/**
 * How a server process ends, the same for stdio and HTTP: console output goes to stderr (stdout may
 * be the JSON-RPC channel), SIGINT/SIGTERM/SIGHUP and a crash run the shutdown once, a shutdown
 * never takes more than 5 s, and whatever child is left when the process exits is killed.
 */
import { killAllChildrenNow } from '../core/children.js';

export type Stop = (why: string, code?: number) => void;

export function consoleToStderr(): void {
  for (const method of ['log', 'info', 'debug', 'dir', 'table'] as const) {
    (console as unknown as Record<string, unknown>)[method] = console.error;
  }
}

/** A stop function that runs `shutdown` once, then exits with the code of the first caller. */
export function stopper(shutdown: () => Promise<void>, announce = false): Stop {
  let stopping = false;
  return (why, code = 0) => {
    if (stopping) return;
    stopping = true;
    if (announce || process.env.TUNELOOP_DEBUG) process.stderr.write(`tuneloop: stopping (${why})\n`);
    // Never hang on the way out: whatever is not done in 5 s is killed with the process.
    setTimeout(() => process.exit(code), 5000).unref();
    shutdown().finally(() => process.exit(code));
  };
}

/** `ignoreHangup`: a server that outlives its session on purpose (serve --keep-jobs) has no terminal to lose. */
export function stopOnSignalsAndCrashes(stop: Stop, options: { ignoreHangup?: boolean } = {}): void {
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => (options.ignoreHangup ? undefined : stop('SIGHUP')));
  process.on('exit', killAllChildrenNow);
  process.on('uncaughtException', (error) => {
    process.stderr.write(`tuneloop: uncaught exception: ${error.stack ?? error}\n`);
    stop('uncaught exception', 1);
  });
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`tuneloop: unhandled rejection: ${(reason as Error)?.stack ?? reason}\n`);
  });
}
