/**
 * The command line as people and CI scripts use it: `tuneloop call | tools | doctor`.
 * Slow: every case starts real processes (the CLI, and the server `call` starts).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { CLI } from '../helpers/stdio.js';
import { tempDir } from '../helpers/tmp.js';

const home = tempDir();
const tuneloop = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, TUNELOOP_HOME: home }, timeout: 60_000 });

describe('tuneloop call', () => {
  it('prints the structured result of a tool as JSON', () => {
    const r = tuneloop('call', 'system_snapshot', '{"top": 2, "sample_ms": 100}');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.cpu.threads).toBeGreaterThan(0);
    expect(out.top_processes.length).toBeLessThanOrEqual(2);
  });

  it('exits 1 with the error text on stderr when the tool fails', () => {
    const r = tuneloop('call', 'workload', '{"action": "get", "workload": "missing"}');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/No workload "missing"[\s\S]*Remedy:/);
  });

  it('exits 2 on arguments that are not a JSON object', () => {
    const r = tuneloop('call', 'get_history', '{limit: 5}');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not valid JSON/);
    expect(tuneloop('call').stderr).toMatch(/call needs a tool name/);
  });

  it('keeps state in the data dir between calls', () => {
    expect(tuneloop('call', 'record_run', '{"domain":"other","config":{"x":1},"metrics":{"t":2},"primary_metric":"t","direction":"lower"}').status).toBe(0);
    const r = tuneloop('call', 'get_history', '{"limit": 5}');
    expect(JSON.parse(r.stdout).runs).toHaveLength(1);
  });
});

describe('tuneloop tools and doctor', () => {
  it('lists tools as a table and as JSON schemas', () => {
    const table = tuneloop('tools');
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^TOOL\s+TOOLSET\s+KIND\s+PURPOSE/);
    expect(table.stdout).toMatch(/get_history\s+history\s+read-only/);
    const json = JSON.parse(tuneloop('tools', '--json', '--read-only').stdout) as { name: string; annotations: { readOnlyHint: boolean }; inputSchema: object }[];
    expect(json.every((t) => t.annotations.readOnlyHint)).toBe(true);
    expect(json.find((t) => t.name === 'get_history')!.inputSchema).toHaveProperty('properties.limit');
  });

  it('probes the host and says what is missing with a remedy', () => {
    const r = tuneloop('doctor', '--json');
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as { toolset: string; name: string; ok: boolean; remedy?: string }[];
    expect(rows.find((x) => x.name === 'procfs')?.ok).toBe(true);
    for (const row of rows.filter((x) => !x.ok)) expect(row.remedy, row.name).toBeTruthy();
    expect(new Set(rows.map((x) => x.toolset))).toEqual(new Set(['jobs', 'history', 'observe', 'sched', 'nccl', 'triton']));
    expect(tuneloop('doctor').stdout).toMatch(/checks pass/);
  });

  it('explains unknown commands and flags', () => {
    expect(tuneloop('frobnicate').stderr).toMatch(/Unknown command "frobnicate"/);
    expect(tuneloop('tools', '--bogus').status).toBe(2);
  });
});
