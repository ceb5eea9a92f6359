/** The -J JSON format, and scrubbing the process environment it carries before anything is stored. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNcclTestsJson, scrubJsonEnv, scrubPartialJsonEnv } from '../../../src/nccl/output/json.js';

const text = readFileSync(join(import.meta.dirname, '../../fixtures/nccl/outputs/nccl-tests-2.17.json'), 'utf8');

describe('parseNcclTestsJson', () => {
  const out = parseNcclTestsJson(text)!;

  it('reads rows with string roots, "nan" doubles and null nwrong', () => {
    expect(out.rows).toHaveLength(3);
    expect(out.rows[0]).toEqual({
      size: 1048576,
      count: 262144,
      type: 'float',
      redop: 'sum',
      root: -1,
      out_of_place: { time_us: 20.123456, algbw_gbps: 52.107001, busbw_gbps: 52.107001, wrong: 0 },
      in_place: { time_us: 19.876543, algbw_gbps: 52.7543, busbw_gbps: 52.7543, wrong: 0 },
    });
    expect(out.rows[1].in_place).toEqual({ time_us: null, algbw_gbps: null, busbw_gbps: null, wrong: null });
  });

  it('reads devices from inside config, the NCCL version code, and string booleans', () => {
    expect(out.nccl_version).toBe('2.21.5');
    expect(out.devices.map((d) => [d.rank, d.host, d.bus_id])).toEqual([
      [0, 'node-a', '0000:1a:00'],
      [1, 'node-a', '0000:1b:00'],
    ]);
    expect(out.out_of_bounds).toEqual({ count: 0, ok: true });
    expect(out.avg_busbw).toEqual({ value: 67.175258, verdict: null });
    expect(out.errors).toEqual([]);
  });

  it('returns null for an unterminated document (the run crashed mid-table)', () => {
    expect(parseNcclTestsJson(text.slice(0, text.indexOf('"out_of_bounds"')))).toBeNull();
    expect(parseNcclTestsJson('not json')).toBeNull();
  });
});

describe('scrubbing env', () => {
  it('keeps only NCCL_* entries of a complete document', () => {
    const scrubbed = scrubJsonEnv(text)!;
    expect(scrubbed).not.toMatch(/SECRET|hf_abcdefgh|HOME=/);
    const doc = JSON.parse(scrubbed);
    expect(doc.env).toEqual(['NCCL_ALGO=Ring', 'NCCL_DEBUG=WARN']);
    expect(doc.env_scrubbed).toBe('tuneloop removed 3 non-NCCL environment entries');
    expect(doc.results).toHaveLength(3);
  });

  it('cuts the env block out of an unterminated document', () => {
    const partial = text.slice(0, text.indexOf('"results"') + 30);
    const scrubbed = scrubPartialJsonEnv(partial);
    expect(scrubbed).not.toMatch(/SECRET|hf_abcdefgh/);
    expect(scrubbed).toContain('"env":[],"nccl_version":22105');
    // A document cut inside env itself loses everything from env on.
    expect(scrubPartialJsonEnv('{"version":2,"env":["AWS_SECRET=1","HF_T')).toBe('{"version":2,"env":[]');
  });
});
