/**
 * Containment through the real path (exec.ts -> contain.ts): every mode this host offers is forced in
 * turn. What is contained must die with the child (setsid grandchildren included), and the child's
 * exit code, signal and output must be the same whatever the mode.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { configureIsolation, containmentInfo, type ContainmentMode, type ContainmentPreference } from '../../src/core/contain.js';
import { runCommand, spawnChild, type ExecOptions, type ExecResult } from '../../src/core/exec.js';
import { join } from 'node:path';
import { pidsMatching, waitFor } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';

const sh = (script: string) => ['/bin/sh', '-c', script];

/** Which modes this host offers, found by forcing each preference. */
function availableModes(): ContainmentMode[] {
  const modes = new Set<ContainmentMode>();
  for (const p of ['auto', 'pidns', 'pgroup'] as ContainmentPreference[]) {
    configureIsolation({ containment: p });
    modes.add(containmentInfo().mode);
  }
  configureIsolation({ containment: 'auto' });
  return [...modes];
}
const modes = availableModes();
const preferenceFor: Record<ContainmentMode, ContainmentPreference> = { cgroup: 'auto', pidns: 'pidns', pgroup: 'pgroup' };
afterAll(() => configureIsolation({ containment: 'auto' }));

async function inMode<T>(mode: ContainmentMode, run: () => Promise<T>): Promise<T> {
  configureIsolation({ containment: preferenceFor[mode] });
  try {
    return await run();
  } finally {
    configureIsolation({ containment: 'auto' });
  }
}

const scratch = tempDir();

/**
 * A `setsid` grandchild with a unique marker in its argv, so it can be found from outside any PID
 * namespace; the script goes on only once it has left the process group.
 */
function escapee(): { marker: string; script: string } {
  const marker = `${600 + Math.floor(Math.random() * 100)}.${randomBytes(4).readUInt32BE(0)}`;
  const ready = join(scratch, marker);
  // Through a variable, so that only the sleep's own argv (not the shell's) contains the marker.
  return { marker, script: `m=${marker}; setsid sh -c 'echo > ${ready}; exec sleep $0' $m </dev/null >/dev/null 2>&1 & while [ ! -e ${ready} ]; do sleep 0.01; done;` };
}

function killMatching(marker: string): void {
  for (const pid of pidsMatching(`sleep ${marker}`)) process.kill(pid, 'SIGKILL');
}

describe.each(modes.filter((m) => m !== 'pgroup'))('containment %s', (mode) => {
  it('is what the host probe says and what each result reports', async () => {
    const r = await inMode(mode, () => runCommand(['true'], { timeoutMs: 5000 }));
    expect(r.containment).toBe(mode);
  });

  it('kills a setsid grandchild when the child exits', async () => {
    const { marker, script } = escapee();
    const r = await inMode(mode, () => runCommand(sh(`${script} sleep 0.2; exit 0`), { timeoutMs: 10_000 }));
    expect(r.ok).toBe(true);
    expect(pidsMatching(`sleep ${marker}`)).toEqual([]);
  });

  it('kills a setsid grandchild on timeout', async () => {
    const { marker, script } = escapee();
    const r = await inMode(mode, () => runCommand(sh(`${script} sleep 30`), { timeoutMs: 400, killGraceMs: 200 }));
    expect(r.timedOut).toBe(true);
    expect(pidsMatching(`sleep ${marker}`)).toEqual([]);
  });

  it('kills a setsid grandchild on cancel', async () => {
    const { marker, script } = escapee();
    const controller = new AbortController();
    const pending = inMode(mode, () => runCommand(sh(`${script} sleep 30`), { timeoutMs: 10_000, signal: controller.signal }));
    expect(await waitFor(() => pidsMatching(`sleep ${marker}`).length === 1, 5000)).toBe(true);
    controller.abort();
    const r = await pending;
    expect(r.canceled).toBe(true);
    expect(pidsMatching(`sleep ${marker}`)).toEqual([]);
  });

  it('terminate() reaches what the child left outside its process group', async () => {
    const { marker, script } = escapee();
    const child = await inMode(mode, async () => spawnChild(sh(`${script} sleep 30`), { timeoutMs: 10_000 }));
    expect(await waitFor(() => pidsMatching(`sleep ${marker}`).length === 1, 5000)).toBe(true);
    const r = await child.terminate();
    expect(r.signal).toBe('SIGTERM');
    expect(pidsMatching(`sleep ${marker}`)).toEqual([]);
  });
});

describe('process groups (the fallback)', () => {
  it('do not hold a setsid grandchild: why the other modes exist', async () => {
    const { marker, script } = escapee();
    try {
      const r = await inMode('pgroup', () => runCommand(sh(`${script} exit 0`), { timeoutMs: 10_000 }));
      expect(r.containment).toBe('pgroup');
      expect(await waitFor(() => pidsMatching(`sleep ${marker}`).length === 1, 2000)).toBe(true);
    } finally {
      killMatching(marker);
    }
  });
});

describe('the same results whatever the containment', () => {
  const cases: [string, string[], Partial<ExecOptions>][] = [
    ['exit code and both streams', sh('echo out; echo err >&2; exit 7'), {}],
    ['death by its own signal', sh('echo before; kill -TERM $$'), {}],
    ['a crash (SIGSEGV)', sh('kill -SEGV $$'), {}],
    ['timeout of a child that dies on SIGTERM', ['sleep', '30'], { timeoutMs: 300 }],
    ['timeout of a child that ignores SIGTERM', sh('trap "" TERM; sleep 30'), { timeoutMs: 300, killGraceMs: 300 }],
    ['a handler that exits cleanly on SIGTERM, its grandchild in the group signalled too', sh('trap "echo got TERM; exit 3" TERM; sleep 30 & wait'), { timeoutMs: 400 }],
    ['SIGINT as the first signal', sh('trap "echo got INT; exit 4" INT; sleep 30 & wait'), { timeoutMs: 400, killSignal: 'SIGINT' }],
    ['a missing binary', ['/nonexistent/tool'], {}],
    ['stdin and the environment', sh('read x; echo "$x-$FOO"'), { input: 'hi\n', env: { FOO: 'bar' } }],
    ['the working directory', ['pwd'], { cwd: '/usr' }],
  ];
  const observable = (r: ExecResult) => ({
    exitCode: r.exitCode,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    timedOut: r.timedOut,
    canceled: r.canceled,
    ok: r.ok,
    spawnError: r.spawnError?.replace(/\d+/g, 'N'),
  });

  it.each(cases)('%s', async (_name, argv, options) => {
    const seen = new Map<ContainmentMode, ReturnType<typeof observable>>();
    for (const mode of modes) {
      const r = await inMode(mode, () => runCommand(argv, { timeoutMs: 10_000, ...options }));
      seen.set(mode, observable(r));
    }
    const baseline = seen.get('pgroup')!;
    for (const mode of modes) expect(seen.get(mode), mode).toEqual(baseline);
  });
});
