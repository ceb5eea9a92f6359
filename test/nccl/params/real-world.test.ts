/**
 * Real-world NCCL environments from public reports (test/fixtures/nccl/params/real-world-configs.json,
 * each with its source): the validator must give the verdict NCCL itself gives for that release.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateNcclEnv } from '../../../src/nccl/params/validate.js';

interface Case {
  source: string;
  nccl_version: string;
  env: Record<string, string>;
  ok: boolean;
  errors_on?: string[];
  warnings_on?: string[];
  suggestion?: string;
  normalized?: Record<string, string>;
}

const { cases } = JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/nccl/params/real-world-configs.json'), 'utf8')) as { cases: Case[] };

describe('real-world configurations', () => {
  it('has cases from many reports, both verdicts', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(new Set(cases.map((c) => c.ok))).toEqual(new Set([true, false]));
  });

  it.each(cases.map((c) => [`${c.source} @ ${c.nccl_version}`, c] as const))('%s', (_, c) => {
    const v = validateNcclEnv(c.env, { ncclVersion: c.nccl_version });
    expect(v.ok, JSON.stringify(v.errors)).toBe(c.ok);
    if (c.errors_on) expect(v.errors.map((e) => e.token)).toEqual(c.errors_on);
    if (c.warnings_on) expect([...new Set(v.warnings.map((w) => w.variable))].sort()).toEqual([...c.warnings_on].sort());
    if (c.suggestion) expect(v.warnings.map((w) => w.suggestion)).toContain(c.suggestion);
    if (c.normalized) expect(v.normalized).toEqual(Object.fromEntries(Object.entries(c.normalized).sort(([a], [b]) => a.localeCompare(b))));
    // Nothing the caller set is dropped from a valid config.
    if (v.ok) expect(Object.keys(v.normalized).sort()).toEqual(Object.keys(c.env).sort());
  });
});
