/**
 * The triton domain's tables: the reference cache's digests (reference.ts writes and checks them).
 * Apart from reference.ts so that opening the store (at start-up) does not load the harness and,
 * through it, the process runner.
 */
import type { Migration } from '../core/store.js';

export const tritonMigrations: Migration[] = [
  {
    version: 1,
    name: 'triton reference cache digests',
    up: `CREATE TABLE triton_reference (
      key TEXT PRIMARY KEY,
      case_name TEXT NOT NULL,
      digests TEXT NOT NULL,
      created_ms INTEGER NOT NULL,
      used_ms INTEGER NOT NULL
    )`,
  },
];
