/**
 * What one server instance owns: its config, the store, the job manager, and per-server services
 * (monitor sessions, attached schedulers ...) that need cleanup on shutdown. Tools reach it through
 * their context; nothing here knows about MCP.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Config } from './config.js';
import { openStore, type Migration, type Store } from './store.js';
import { JobManager, jobMigrations } from './jobs.js';
import { targetFileMigrations } from './target-files.js';
import { terminateAllChildren } from './children.js';
import { configureIsolation } from './contain.js';
import { describeBug, Logger, type LogLevel } from './log.js';

export interface Runtime {
  readonly config: Config;
  readonly store: Store;
  readonly jobs: JobManager;
  readonly logger: Logger;
  /** Diagnostics to stderr and to the client's log. */
  log(level: LogLevel, message: string): void;
  /** A per-server singleton, created on first use (e.g. the monitor registry). */
  service<T>(key: string, create: (rt: Runtime) => T): T;
  /** Runs on shutdown, newest first, before jobs are stopped and the store is closed. */
  onShutdown(hook: () => Promise<void> | void): void;
  shutdown(): Promise<void>;
}

export function createRuntime(config: Config, migrations: Record<string, Migration[]>): Runtime {
  mkdirSync(config.home, { recursive: true, mode: 0o700 });
  configureIsolation(config);
  const store = openStore(join(config.home, 'tuneloop.db'), { jobs: jobMigrations, files: targetFileMigrations, ...migrations });
  const logger = new Logger();
  const jobs = new JobManager(store, config.home, logger);
  const services = new Map<string, unknown>();
  const hooks: (() => Promise<void> | void)[] = [];
  let stopping: Promise<void> | null = null;

  const runtime: Runtime = {
    config,
    store,
    jobs,
    logger,
    log: (level, message) => logger.log(level, message),
    service<T>(key: string, create: (rt: Runtime) => T): T {
      if (!services.has(key)) services.set(key, create(runtime));
      return services.get(key) as T;
    },
    onShutdown(hook) {
      hooks.push(hook);
    },
    shutdown() {
      stopping ??= (async () => {
        for (const hook of [...hooks].reverse()) {
          try {
            await hook();
          } catch (error) {
            logger.log('error', `shutdown hook failed: ${describeBug(error)}`);
          }
        }
        await jobs.shutdown(1000);
        await terminateAllChildren();
        store.close();
      })();
      return stopping;
    },
  };
  return runtime;
}
