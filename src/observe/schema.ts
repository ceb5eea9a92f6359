/**
 * The observe domain's tables. Apart from monitor.ts so that opening the store (at start-up) does not
 * load the sampler and, through it, the process runner.
 * The monitor_sessions table is from releases that stored summaries no tool ever read back.
 */
import type { Migration } from '../core/store.js';

export const observeMigrations: Migration[] = [
  {
    version: 1,
    name: 'monitor sessions',
    up: `CREATE TABLE monitor_sessions (
      id TEXT PRIMARY KEY,
      label TEXT,
      started_at TEXT NOT NULL,
      stopped_at TEXT NOT NULL,
      interval_ms INTEGER NOT NULL,
      summary TEXT NOT NULL
    );`,
  },
];
