/**
 * The stdio server process. Stdout is the JSON-RPC channel and nothing else may write to it, so
 * console output is redirected to stderr before anything else loads. The v1 stdio transport does
 * not end the process when stdin closes: we listen for that ourselves, and for SIGINT/SIGTERM, and
 * shut down (schedulers detached, jobs interrupted, children killed, SQLite closed) before exiting.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Config } from '../core/config.js';
import { createServer } from '../server.js';
import { consoleToStderr, stopOnSignalsAndCrashes, stopper } from './lifecycle.js';

export async function serve(config: Config): Promise<void> {
  consoleToStderr();
  const { server, close } = createServer(config);
  const transport = new StdioServerTransport();
  const stop = stopper(close);
  process.stdin.on('end', () => stop('stdin ended'));
  process.stdin.on('close', () => stop('stdin closed'));
  stopOnSignalsAndCrashes(stop);
  await server.connect(transport);
}
