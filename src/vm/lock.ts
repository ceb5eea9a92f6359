/**
 * One `tuneloop vm build` at a time per cache: a lock directory holding the builder's pid. A lock
 * whose process is gone (killed, machine rebooted) is taken over.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';
import { isProcessAlive } from '../core/proc.js';

export async function withBuildLock<T>(lock: string, work: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(lock), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = Number(readFileSync(join(lock, 'pid'), { encoding: 'utf8', flag: 'a+' }).trim());
      // No pid yet: its builder is between mkdir and writing it, unless that was long ago.
      const starting = !holder && Date.now() - statSync(lock).mtimeMs < 60_000;
      if (starting || (holder && isProcessAlive(holder))) {
        throw new UserError(`Another tuneloop vm build (pid ${holder || 'starting'}) is building in this cache.`, `Wait for it to finish, then run the command again (lock: ${lock}).`);
      }
      rmSync(lock, { recursive: true, force: true });
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
