import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openStore, type Migration } from '../../src/core/store.js';
import { tempDir } from '../helpers/tmp.js';

const migrations: Migration[] = [
  { version: 1, name: 'a', up: 'CREATE TABLE a (x INTEGER)' },
  { version: 2, name: 'b', up: (db) => db.exec('ALTER TABLE a ADD COLUMN y TEXT') },
];

describe('openStore', () => {
  it('applies each migration once, in order, and records it', () => {
    const path = join(tempDir(), 'db');
    openStore(path, { demo: migrations }).close();
    const again = openStore(path, { demo: migrations });
    const applied = again.db.prepare('SELECT domain, version, name FROM schema_migrations').all();
    expect(applied).toEqual([
      { domain: 'demo', version: 1, name: 'a' },
      { domain: 'demo', version: 2, name: 'b' },
    ]);
    expect(again.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(Number(again.db.pragma('busy_timeout', { simple: true }))).toBeGreaterThanOrEqual(5000);
  });

  it('keeps each domain on its own version sequence', () => {
    const s = openStore(join(tempDir(), 'db'), { one: [migrations[0]], two: [{ version: 1, name: 'c', up: 'CREATE TABLE c (z)' }] });
    expect(s.db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: 2 });
  });

  it('refuses a gap in the version sequence', () => {
    expect(() => openStore(join(tempDir(), 'db'), { bad: [migrations[1]] })).toThrow(/expected version 1, got 2/);
  });

  it('rolls a failed write back completely', () => {
    const s = openStore(join(tempDir(), 'db'), { demo: migrations });
    expect(() =>
      s.write((db) => {
        db.prepare('INSERT INTO a (x) VALUES (1)').run();
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(s.db.prepare('SELECT COUNT(*) AS n FROM a').get()).toEqual({ n: 0 });
  });
});
