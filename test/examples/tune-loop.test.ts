/**
 * The scripted loop (issue 13, item 6) at a small budget, as CI runs it: a real compressor on this
 * machine, driven only through tuneloop's public tools over stdio. Asserts the shape of what it
 * prints and that the history it leaves is consistent, never timings.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/tune-loop.mjs');

describe('examples/tune-loop.mjs', () => {
  it('tunes a compressor: baseline first, suggestions, a statistical verdict and derived rules', async () => {
    const home = tempDir();
    const { stdout } = await promisify(execFile)(process.execPath, [EXAMPLE, '--budget', '4', '--repeats', '4', '--size-mb', '1', '--home', home, '--json'], { timeout: 300_000, maxBuffer: 1 << 22 });
    const lines = stdout.trim().split('\n');
    const report = JSON.parse(lines.at(-1)!) as {
      trajectory: { trial: number; kind: string; config: { codec: string; level: number; threads: number }; median: number }[];
      best: { config: unknown; n: number; median: number };
      verdict: string;
      rules: { id: number; patch: unknown; gain: number }[];
    };
    expect(report.trajectory).toHaveLength(4);
    expect(report.trajectory[0]).toMatchObject({ trial: 1, kind: 'default', config: { codec: 'gzip', level: 6, threads: 1 } });
    expect(new Set(report.trajectory.map((t) => JSON.stringify(t.config))).size).toBe(4);
    for (const t of report.trajectory) expect(t.median).toBeGreaterThan(0);
    // The best is the config with the lowest median among those measured (each measured 4 times).
    const lowest = report.trajectory.reduce((a, b) => (b.median < a.median ? b : a));
    expect(report.best).toMatchObject({ config: lowest.config, n: 4 });
    expect(['better', 'worse', 'no significant difference']).toContain(report.verdict);
    expect(stdout).toMatch(/^trial +kind +config/m);
    expect(stdout).toMatch(/verdict vs default \(gzip -6\): (BETTER|WORSE|NO SIGNIFICANT DIFFERENCE): /);
    // Rules are derived only from significant gains.
    for (const r of report.rules) expect(r.gain).toBeGreaterThan(0);
  }, 320_000);
});
