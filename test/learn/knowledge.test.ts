/**
 * search_knowledge and workload similar (issue 13, item 3): plain-language questions find the right
 * guide passage first; rules become searchable as soon as they are added; FTS query syntax in a
 * question is treated as words.
 */
import { describe, expect, it } from 'vitest';
import { chunkMarkdown, markdownFiles } from '../../src/learn/knowledge/sources.js';
import { toMatchExpression } from '../../src/learn/knowledge/search.js';
import { connectInMemory, textOf } from '../helpers/runtime.js';

describe('knowledge sources', () => {
  it('ships the guides and cuts them at every heading with the heading path', () => {
    const files = markdownFiles();
    for (const f of ['sched/choosing-a-scheduler.md', 'nccl/tuning-guide.md', 'triton/optimization-checklist.md', 'runbooks/gpu-xid.md']) expect(files).toContain(f);
    const chunks = chunkMarkdown('x.md', '# Title\nintro\n## A\none\n### A1\ntwo\n```\n# not a heading\n```\n## B\nthree\n');
    expect(chunks.map((c) => [c.title, c.section])).toEqual([
      ['Title', ''],
      ['Title', 'A'],
      ['Title', 'A > A1'],
      ['Title', 'B'],
    ]);
    expect(chunks[2].body).toContain('# not a heading');
  });

  it('turns a question into quoted terms, so no FTS syntax gets through', () => {
    expect(toMatchExpression('which scheduler for a game?')).toBe('"scheduler" OR "game"');
    expect(toMatchExpression('allreduce')).toBe('"allreduce" OR "all reduce"');
    expect(toMatchExpression('NEAR(x y) OR "a" AND -b*')).toBe('"near" OR "x" OR "y" OR "b"');
    expect(toMatchExpression('the of a')).toBeNull();
  });
});

describe('search_knowledge through MCP', async () => {
  const { call } = await connectInMemory();
  const top = async (query: string, extra: object = {}) => {
    const r = await call('search_knowledge', { query, ...extra });
    expect(r.isError).toBeFalsy();
    return (r.structuredContent as { hits: { kind: string; title: string; section: string; uri: string; snippet: string }[] }).hits;
  };

  it.each([
    ['which scheduler for a game', 'tuneloop://knowledge/sched/choosing-a-scheduler.md', /Gaming/],
    ['allreduce slow on small messages', 'tuneloop://knowledge/nccl/tuning-guide.md', /small messages/],
    ['Xid 79', 'tuneloop://knowledge/runbooks/gpu-xid.md', /Xid 79/],
    ['my kernel build got slower, which scheduler helps throughput', 'tuneloop://knowledge/sched/choosing-a-scheduler.md', /Throughput/],
    ['vLLM stuck waiting for core engine', 'tuneloop://knowledge/runbooks/host-stalls.md', /vLLM engine start-up hang/],
    ['NCCL watchdog timeout on one rank', 'tuneloop://knowledge/runbooks/nccl-failures.md', /Watchdog timeout/],
    ['how to choose block size and num_warps in triton', 'tuneloop://knowledge/triton/optimization-checklist.md', /Blocks, warps, stages/],
  ])('"%s" finds the right guide passage first', async (query, uri, section) => {
    const hits = await top(query);
    expect(hits[0].uri).toBe(uri);
    expect(hits[0].section).toMatch(section);
    expect(hits[0].snippet).toMatch(/\*\*/);
  });

  it('finds catalog rows and parameters too, and filters by kind', async () => {
    const sched = await top('gaming', { kinds: ['scheduler'] });
    expect(sched.map((h) => h.uri)).toContain('tuneloop://schedulers/scx_lavd');
    expect(sched.every((h) => h.kind === 'scheduler')).toBe(true);
    const param = await top('NCCL_PROTO', { kinds: ['nccl-param'], limit: 1 });
    expect(param[0]).toMatchObject({ title: 'NCCL_PROTO', uri: 'tuneloop://knowledge/nccl/params.json' });
  });

  it('indexes rules as soon as they exist', async () => {
    expect(await top('frobnicator', { kinds: ['rule'] })).toEqual([]);
    const added = await call('rules', { action: 'add', domain: 'other', context: { workload: 'frobnicator' }, patch: { knob: 3 }, note: 'frobnicator likes knob 3' });
    const id = (added.structuredContent as { rule: { id: number } }).rule.id;
    const hits = await top('frobnicator', { kinds: ['rule'] });
    expect(hits[0].uri).toBe(`tuneloop://rules/${id}`);
    await call('rules', { action: 'delete', id });
    expect(await top('frobnicator', { kinds: ['rule'] })).toEqual([]);
  });

  it('answers nothing-matched plainly', async () => {
    const r = await call('search_knowledge', { query: 'zzzqqq' });
    expect(r.structuredContent).toEqual({ hits: [] });
    expect(textOf(r)).toMatch(/Nothing matched/);
  });
});

describe('workload similar through MCP', async () => {
  const { call } = await connectInMemory();

  it('ranks workloads by description, command, classification and tags, with their best configs', async () => {
    await call('workload', { action: 'create', name: 'kbuild', description: 'Linux kernel build with make', command: ['make', '-j8', 'bzImage'], classification: 'throughput', tags: ['build', 'cpu'] });
    await call('workload', { action: 'create', name: 'llvm-build', description: 'LLVM build with ninja', command: ['ninja', '-C', 'build'], classification: 'throughput', tags: ['build'] });
    await call('workload', { action: 'create', name: 'game', description: 'Steam game frame times', command: ['steam'], classification: 'interactive', tags: ['latency'] });
    for (const v of [60, 61, 59]) await call('record_run', { domain: 'sched', workload: 'kbuild', config: { scheduler: 'default' }, metrics: { wall_s: v }, primary_metric: 'wall_s', direction: 'lower' });
    for (const v of [50, 51, 49]) await call('record_run', { domain: 'sched', workload: 'kbuild', config: { scheduler: 'scx_rusty' }, metrics: { wall_s: v }, primary_metric: 'wall_s', direction: 'lower' });

    const r = await call('workload', { action: 'similar', description: 'build the kernel', command: ['make', '-j16'], classification: 'throughput', tags: ['build'] });
    expect(r.isError).toBeFalsy();
    const similar = (r.structuredContent as { similar: { workload: { name: string }; similarity: number; reasons: string[]; best: { config: unknown; median: number }[] }[] }).similar;
    // The game shares nothing with a kernel build: left out (similarity 0).
    expect(similar.map((s) => s.workload.name)).toEqual(['kbuild', 'llvm-build']);
    expect(similar[0].reasons).toContain('same program make');
    expect(similar[0].best[0]).toMatchObject({ config: { scheduler: 'scx_rusty' }, median: 50 });
    expect(similar[1].best).toEqual([]);
    expect(similar[1].similarity).toBeLessThan(similar[0].similarity);

    // By a saved workload: itself is left out.
    const byName = await call('workload', { action: 'similar', workload: 'llvm-build' });
    const names = (byName.structuredContent as { similar: { workload: { name: string } }[] }).similar.map((s) => s.workload.name);
    expect(names[0]).toBe('kbuild');
    expect(names).not.toContain('llvm-build');
    expect(textOf(byName)).toMatch(/similar workload/);

    const nothing = await call('workload', { action: 'similar' });
    expect(textOf(nothing)).toMatch(/similar needs a workload/);
  });
});
