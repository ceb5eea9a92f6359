/**
 * The one SQLite store. Several server processes (several client sessions) may share a data dir:
 * WAL lets readers run beside a writer, busy_timeout makes writers queue instead of failing, and
 * every write is a transaction (`store.write`), started IMMEDIATE so two writers never deadlock on
 * a read-to-write upgrade.
 *
 * Migrations are versioned per domain ("core", "history", "nccl", ...), so each domain owns its own
 * sequence and adding one never renumbers another's.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

export interface Migration {
  /** 1, 2, 3 ... within its domain; applied in order, each once. */
  version: number;
  /** What it does, kept in the table for whoever inspects the database. */
  name: string;
  up: string | ((db: Db) => void);
}

export interface Store {
  readonly db: Db;
  readonly path: string;
  /** Run `fn` in an IMMEDIATE transaction: all of it lands or none of it does. */
  write<T>(fn: (db: Db) => T): T;
  /** A prepared statement for `sql`, compiled once per store (hot paths re-run the same SQL). */
  statement(sql: string): Database.Statement;
  close(): void;
}

const BUSY_TIMEOUT_MS = 15_000;

export function openStore(path: string, migrations: Record<string, Migration[]>): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');

  const statements = new Map<string, Database.Statement>();
  const store: Store = {
    db,
    path,
    statement(sql) {
      let stmt = statements.get(sql);
      if (!stmt) statements.set(sql, (stmt = db.prepare(sql)));
      return stmt;
    },
    write<T>(fn: (d: Db) => T): T {
      return db.transaction(() => fn(db)).immediate();
    },
    close() {
      if (db.open) db.close();
    },
  };
  migrate(store, migrations);
  return store;
}

function migrate(store: Store, migrations: Record<string, Migration[]>): void {
  store.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    domain TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL,
    PRIMARY KEY (domain, version))`);
  const appliedVersion = (domain: string): number =>
    (store.db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations WHERE domain = ?').get(domain) as { v: number }).v;
  for (const [domain, list] of Object.entries(migrations)) {
    const sorted = [...list].sort((a, b) => a.version - b.version);
    sorted.forEach((m, i) => {
      if (m.version !== i + 1) throw new Error(`migrations for ${domain}: expected version ${i + 1}, got ${m.version}`);
    });
    // The common case (an up-to-date store) takes no write lock at all.
    if (appliedVersion(domain) >= sorted.length) continue;
    // One transaction per domain: a concurrent server either sees none or all of it.
    store.write((db) => {
      const applied = appliedVersion(domain);
      for (const m of sorted) {
        if (m.version <= applied) continue;
        if (typeof m.up === 'string') db.exec(m.up);
        else m.up(db);
        db.prepare('INSERT INTO schema_migrations (domain, version, name, applied_at) VALUES (?, ?, ?, ?)').run(
          domain,
          m.version,
          m.name,
          new Date().toISOString(),
        );
      }
    });
  }
}
