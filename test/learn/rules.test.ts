/**
 * Rules (issue 13, item 2): weighted fuzzy context matching, and rules derived only from
 * statistically significant gains, through MCP.
 */
import { describe, expect, it } from 'vitest';
import { matchContext, rangeSimilarity, textSimilarity } from '../../src/learn/rules/context.js';
import { configPatch } from '../../src/learn/rules/derive.js';
import { connectInMemory, textOf } from '../helpers/runtime.js';

describe('context similarity', () => {
  it('ranks equal above same-family above unrelated text', () => {
    expect(textSimilarity('NVIDIA H100 80GB HBM3', 'nvidia h100 80gb hbm3')).toBe(1);
    const family = textSimilarity('AMD EPYC 7763 64-Core Processor', 'AMD EPYC 7713 64-Core Processor');
    const unrelated = textSimilarity('AMD EPYC 7763 64-Core Processor', 'Intel(R) Xeon(R) Platinum 8480+');
    expect(family).toBeGreaterThan(0.5);
    expect(family).toBeLessThan(1);
    expect(unrelated).toBeLessThan(0.2);
    expect(textSimilarity('6.12.9', '6.12.3')).toBeGreaterThan(textSimilarity('6.12.9', '6.1.3'));
  });

  it('scores numeric ranges 1 inside and by half per doubling outside', () => {
    expect(rangeSimilarity({ min: 8, max: 16 }, 12)).toBe(1);
    expect(rangeSimilarity({ min: 8, max: 16 }, 32)).toBe(0.5);
    expect(rangeSimilarity({ min: 8, max: 16 }, 2)).toBe(0);
    expect(rangeSimilarity({ min: 4 }, 1000)).toBe(1);
  });

  it('weighs conditions, treats unknown facts as neither match nor mismatch, and explains', () => {
    const rule = { gpu_model: 'NVIDIA H100 80GB HBM3', ranks: { min: 8, max: 16 }, message_band: 'small' };
    const exact = matchContext(rule, { gpu_model: 'NVIDIA H100 80GB HBM3', ranks: 16, message_band: 'small' });
    const nearby = matchContext(rule, { gpu_model: 'NVIDIA H100 NVL', ranks: 32, message_band: 'small' });
    const unknown = matchContext(rule, {});
    const wrong = matchContext(rule, { gpu_model: 'AMD MI300X', ranks: 2, message_band: 'large' });
    expect(exact.score).toBe(1);
    expect(nearby.score).toBeLessThan(exact.score);
    expect(nearby.score).toBeGreaterThan(unknown.score);
    expect(unknown.score).toBeGreaterThan(wrong.score);
    expect(nearby.reasons.join('; ')).toMatch(/ranks: 32 outside 8..16/);
    expect(matchContext({}, { gpu_model: 'x' }).reasons).toEqual(['no conditions: applies anywhere, weakly']);
  });

  it('derives the patch as the keys that changed, null for ones the winner unset', () => {
    expect(configPatch({ NCCL_ALGO: 'Ring', NCCL_PROTO: 'Simple' }, { NCCL_PROTO: 'LL128' })).toEqual({ NCCL_ALGO: null, NCCL_PROTO: 'LL128' });
    expect(configPatch({ scheduler: 'default' }, { scheduler: 'scx_lavd', flags: ['--performance'] })).toEqual({ scheduler: 'scx_lavd', flags: ['--performance'] });
  });
});

describe('rules tool through MCP', async () => {
  const { call } = await connectInMemory();

  it('adds, lists, matches by similarity x confidence, and deletes', async () => {
    const h100 = await call('rules', { action: 'add', domain: 'nccl', context: { gpu_model: 'NVIDIA H100 80GB HBM3', message_band: 'small', ranks: { min: 8, max: 16 } }, patch: { NCCL_PROTO: 'LL' }, metric: 'busbw_gbps', gain: 0.3, confidence: 0.9 });
    expect(h100.isError).toBeFalsy();
    await call('rules', { action: 'add', domain: 'nccl', context: { gpu_model: 'AMD MI300X', message_band: 'large' }, patch: { NCCL_MIN_CTAS: '32' }, gain: 0.1, confidence: 0.9 });
    await call('rules', { action: 'add', domain: 'sched', context: { classification: 'interactive' }, patch: { scheduler: 'scx_lavd' }, confidence: 0.6 });
    const list = (await call('rules', { action: 'list', domain: 'nccl' })).structuredContent as { rules: unknown[]; total: number };
    expect(list.total).toBe(2);

    const m = await call('rules', { action: 'match', domain: 'nccl', situation: { gpu_model: 'NVIDIA H100 80GB HBM3', message_band: 'small', ranks: 16 }, from_host: false });
    const matches = (m.structuredContent as { matches: { rule: { patch: unknown }; similarity: number; score: number; reason: string }[] }).matches;
    expect(matches.map((x) => x.rule.patch)).toEqual([{ NCCL_PROTO: 'LL' }, { NCCL_MIN_CTAS: '32' }]);
    expect(matches[0]).toMatchObject({ similarity: 1, score: 0.9 });
    expect(matches[1].score).toBeLessThan(0.3);
    expect(matches[0].reason).toMatch(/gpu_model: "NVIDIA H100 80GB HBM3" matches/);

    // Adding the same patch and context again refreshes the rule instead of duplicating it.
    const again = await call('rules', { action: 'add', domain: 'nccl', context: { ranks: { min: 8, max: 16 }, message_band: 'small', gpu_model: 'NVIDIA H100 80GB HBM3' }, patch: { NCCL_PROTO: 'LL' }, metric: 'busbw_gbps', gain: 0.35, confidence: 0.95 });
    expect(again.structuredContent).toMatchObject({ created: false, rule: { gain: 0.35, confidence: 0.95 } });
    const id = (h100.structuredContent as { rule: { id: number } }).rule.id;
    const del = await call('rules', { action: 'delete', id });
    expect(textOf(del)).toMatch(/Deleted rule/);
    const gone = await call('rules', { action: 'delete', id });
    expect(gone.isError).toBe(true);
    expect(textOf(gone)).toMatch(/No rule \d+[\s\S]*Remedy/);
  });

  it('derives a rule only where a config beats the baseline significantly, and saving twice keeps one', async () => {
    await call('workload', { action: 'create', name: 'game', classification: 'interactive', tags: ['latency'] });
    const record = (config: object, p99: number) => call('record_run', { domain: 'sched', workload: 'game', config, metrics: { p99_ms: p99 }, primary_metric: 'p99_ms', direction: 'lower', context: { ranks: 1 } });
    for (const v of [20, 21, 19.5, 20.5, 20.2, 19.8]) await record({ scheduler: 'default' }, v);
    for (const v of [14, 14.5, 13.8, 14.2, 14.1, 13.9]) await record({ scheduler: 'scx_lavd', flags: ['--performance'] }, v);
    for (const v of [19.9, 20.6, 19.4, 20.8, 20.1, 19.7]) await record({ scheduler: 'scx_bpfland', flags: [] }, v); // within noise
    for (const v of [30, 31]) await record({ scheduler: 'scx_rusty', flags: [] }, v); // too few runs

    const d = await call('rules', { action: 'derive', workload: 'game' });
    expect(d.isError).toBeFalsy();
    const c = (d.structuredContent as { candidates: { patch: unknown; gain: number; confidence: number; context: Record<string, unknown>; evidence: number[]; saved_rule_id: number | null; comparison: { verdict: string } }[] }).candidates;
    expect(c).toHaveLength(1);
    expect(c[0].patch).toEqual({ scheduler: 'scx_lavd', flags: ['--performance'] });
    expect(c[0].gain).toBeGreaterThan(0.25);
    expect(c[0].confidence).toBeGreaterThan(0.9);
    expect(c[0].comparison.verdict).toBe('better');
    expect(c[0].evidence).toHaveLength(12);
    expect(c[0].context).toMatchObject({ workload: 'game', classification: 'interactive', tags: ['latency'], ranks: { min: 1, max: 1 } });
    expect(c[0].context.cpu_model).toBeTypeOf('string');
    expect(c[0].saved_rule_id).toBeNull();
    expect(textOf(d)).toMatch(/pass save: true/);

    const saved = await call('rules', { action: 'derive', workload: 'game', save: true });
    const savedAgain = await call('rules', { action: 'derive', workload: 'game', save: true });
    const id1 = (saved.structuredContent as { candidates: { saved_rule_id: number }[] }).candidates[0].saved_rule_id;
    const id2 = (savedAgain.structuredContent as { candidates: { saved_rule_id: number }[] }).candidates[0].saved_rule_id;
    expect(id1).toBe(id2);
    // And the derived rule now matches this host and workload best.
    const m = await call('rules', { action: 'match', workload: 'game', domain: 'sched' });
    const top = (m.structuredContent as { matches: { rule: { id: number } }[] }).matches[0];
    expect(top.rule.id).toBe(id1);
  });

  it('refuses incomplete or malformed input with a remedy', async () => {
    const noPatch = await call('rules', { action: 'add', domain: 'nccl' });
    expect(textOf(noPatch)).toMatch(/add needs domain and patch/);
    const badContext = await call('rules', { action: 'add', domain: 'nccl', patch: { NCCL_PROTO: 'LL' }, context: { gpu: 'H100' } });
    expect(badContext.isError).toBe(true);
    expect(textOf(badContext)).toMatch(/gpu/);
    const badEvidence = await call('rules', { action: 'add', domain: 'nccl', patch: { NCCL_PROTO: 'LL' }, evidence: [999999] });
    expect(textOf(badEvidence)).toMatch(/evidence run ids do not exist/);
  });
});
