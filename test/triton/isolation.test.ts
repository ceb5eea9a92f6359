/**
 * The candidate's sandbox, as the verify asks core/sandbox for it (what is bound, what never is),
 * and the freeze that keeps the candidate's processes still while the baseline is timed: a real
 * process tree, a setsid grandchild included, stops and resumes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnChild } from '../../src/core/exec.js';
import { HARNESS_PATH } from '../../src/triton/harness.js';
import { candidateSandbox, descendants, freezeTree } from '../../src/triton/isolation.js';
import { waitFor } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';

const dirs = (root: string) => ({ input: join(root, 'in'), output: join(root, 'out'), tmp: join(root, 'tmp') });

describe('candidateSandbox', () => {
  it('binds the interpreter, the harness alone and the candidate\'s folders; never the data dir', () => {
    const root = tempDir();
    const home = join(root, 'home');
    const { spec, dropped, allowedRoots } = candidateSandbox({
      dirs: dirs(root),
      pythonRoots: ['/usr/lib/python3/dist-packages', '/opt/venv/lib/site-packages', root, join(home, 'lib'), join(HARNESS_PATH, '..')],
      forbidden: [home],
      device: 'cpu',
      interpret: false,
      isolation: 'bwrap',
    });
    expect(spec.roBinds).toEqual([HARNESS_PATH, join(HARNESS_PATH, '..', 'tlharness'), '/opt/venv/lib/site-packages', join(root, 'in')]);
    expect(spec.rwBinds).toEqual([join(root, 'out')]);
    expect(dropped).toEqual([root, join(home, 'lib')]); // a folder holding the data dir, and one inside it
    expect(spec.network).toBe(false);
    expect(spec.env).toMatchObject({ HOME: '/tmp', TMPDIR: '/tmp', TRITON_CACHE_DIR: '/tmp/triton-cache' });
    expect(spec.env).not.toHaveProperty('TRITON_INTERPRET');
    expect(spec.memoryBytes).toBeGreaterThan(0);
    expect(allowedRoots).toEqual(expect.arrayContaining(['/usr', '/proc', join(root, 'out'), join(root, 'in')]));
    expect(allowedRoots).not.toContain('/tmp');
  });

  it('without isolation, gives the candidate a folder of the job as its /tmp, and interpret mode its variable', () => {
    const root = tempDir();
    const { spec } = candidateSandbox({ dirs: dirs(root), pythonRoots: [], forbidden: [], device: 'cpu', interpret: true, isolation: 'none' });
    expect(spec.env).toMatchObject({ HOME: join(root, 'tmp'), TMPDIR: join(root, 'tmp'), TRITON_INTERPRET: '1' });
    expect(spec.cwd).toBe(join(root, 'tmp'));
  });
});

describe('freezeTree', () => {
  it('stops a process and everything under it (a setsid grandchild too), and lets them run again', async () => {
    const dir = tempDir();
    const ticker = (name: string) => `import os, time\nwhile True:\n    open(${JSON.stringify(join(dir, name))}, "w").write(str(time.monotonic_ns()))\n    time.sleep(0.01)\n`;
    const script = `import os\nif os.fork() == 0:\n    os.setsid()\n    exec(${JSON.stringify(ticker('grandchild'))})\nexec(${JSON.stringify(ticker('parent'))})\n`;
    const child = spawnChild(['python3', '-c', script], { timeoutMs: 60_000 });
    try {
      const read = (name: string) => {
        try {
          return readFileSync(join(dir, name), 'utf8');
        } catch {
          return '';
        }
      };
      expect(await waitFor(() => read('parent') !== '' && read('grandchild') !== '', 10_000)).toBe(true);
      expect(descendants(child.pid!).length).toBeGreaterThanOrEqual(1);
      const thaw = freezeTree(child.pid);
      await new Promise((r) => setTimeout(r, 100));
      const frozen = [read('parent'), read('grandchild')];
      await new Promise((r) => setTimeout(r, 400));
      expect([read('parent'), read('grandchild')]).toEqual(frozen);
      thaw();
      expect(await waitFor(() => read('parent') !== frozen[0] && read('grandchild') !== frozen[1], 5000)).toBe(true);
    } finally {
      await child.terminate('SIGKILL');
    }
  });
});
