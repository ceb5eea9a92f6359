/** Every domain's schema, applied when a store opens; each domain numbers its own migrations. */
import type { Migration } from './core/store.js';
import { historyMigrations } from './learn/schema.js';
import { observeMigrations } from './observe/schema.js';
import { ncclMigrations } from './nccl/env/profiles.js';
import { schedMigrations } from './sched/store.js';

export const allMigrations: Record<string, Migration[]> = {
  history: historyMigrations,
  observe: observeMigrations,
  nccl: ncclMigrations,
  sched: schedMigrations,
};
