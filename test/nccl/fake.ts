/** Where the fake nccl-tests family lives, and installing variants of it (suffixes, older releases). */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/tmp.js';

export const FAKE_DIR = resolve(import.meta.dirname, '../fixtures/nccl');
/** bin/<collective>_perf for every collective, imitating nccl-tests 2.19.4 with NCCL 2.27.3. */
export const FAKE_BIN = join(FAKE_DIR, 'bin');
export const FAKE_SCRIPT = join(FAKE_DIR, 'fake-nccl-tests.mjs');

/** A directory of wrappers named <collective>_perf<suffix>, optionally pinned to an nccl-tests release. */
export function installFake(options: { suffix?: string; version?: string; collectives?: string[] } = {}): string {
  const dir = tempDir('tuneloop-fake-nccl-');
  const pin = options.version ? `FAKE_NCCL_TESTS_VERSION=${options.version} ` : '';
  for (const c of options.collectives ?? ['all_reduce', 'all_gather', 'broadcast']) {
    const name = `${c}_perf${options.suffix ?? ''}`;
    writeFileSync(join(dir, name), `#!/bin/sh\n${pin}exec node "${FAKE_SCRIPT}" "$(basename "$0")" "$@"\n`, { mode: 0o755 });
  }
  return dir;
}
