/**
 * Diagnostics: to stderr (never stdout, the JSON-RPC channel) and to every attached sink, such as
 * the MCP client's log (notifications/message) once a server is connected.
 */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
export type LogSink = (level: LogLevel, message: string) => void;

export class Logger {
  private readonly sinks = new Set<LogSink>();

  /** Debug and info reach stderr only with TUNELOOP_DEBUG set; sinks get everything. */
  log(level: LogLevel, message: string): void {
    if (level === 'warning' || level === 'error' || process.env.TUNELOOP_DEBUG) process.stderr.write(`tuneloop: ${level}: ${message}\n`);
    for (const sink of this.sinks) sink(level, message);
  }

  addSink(sink: LogSink): void {
    this.sinks.add(sink);
  }

  removeSink(sink: LogSink): void {
    this.sinks.delete(sink);
  }
}

/** The text of an unexpected error, stack included, for the log. */
export function describeBug(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
