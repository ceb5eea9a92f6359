/**
 * Resources over real stdio (issue 13, item 4): listed, readable, templated, with MIME types, large
 * files paged through ?offset=N, and nothing outside their roots reachable.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startStdioServer } from '../helpers/stdio.js';
import { tempDir } from '../helpers/tmp.js';

const KNOWLEDGE = resolve(import.meta.dirname, '../../knowledge');

describe('resources', async () => {
  const home = tempDir();
  // A Triton experiment bundle with a file larger than one page, plus an escape attempt.
  const archive = join(home, 'archives', '20260101T000000Z-softmax-1.50x');
  mkdirSync(archive, { recursive: true });
  const big = Array.from({ length: 40000 }, (_, i) => `line ${i} ünïcødé`).join('\n');
  writeFileSync(join(archive, 'big.log'), big);
  writeFileSync(join(archive, 'metrics.json'), '{"speedup": 1.5}');
  symlinkSync('/etc/passwd', join(archive, 'escape.txt'));
  const { client } = await startStdioServer(['serve'], { TUNELOOP_HOME: home });
  afterAll(() => client.close());
  const call = (name: string, args: object) => client.callTool({ name, arguments: args as Record<string, unknown> }) as Promise<CallToolResult>;
  const read = async (uri: string) => (await client.readResource({ uri })).contents[0] as { uri: string; mimeType: string; text?: string; blob?: string };

  it('offers a template for every kind of resource', async () => {
    const { resourceTemplates } = await client.listResourceTemplates();
    const templates = resourceTemplates.map((t) => t.uriTemplate);
    for (const t of ['tuneloop://knowledge/{+path}', 'tuneloop://schedulers/{name}', 'tuneloop://workloads/{id}', 'tuneloop://runs/{id}', 'tuneloop://rules/{id}', 'tuneloop://jobs/{job_id}/log', 'tuneloop://archives/{archive}/{+file}']) {
      expect(templates).toContain(t);
    }
  });

  it('lists and reads the knowledge guides as markdown, tables as JSON', async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris).toContain('tuneloop://knowledge/nccl/tuning-guide.md');
    expect(uris).toContain('tuneloop://schedulers/scx_lavd');
    const guide = await read('tuneloop://knowledge/nccl/tuning-guide.md');
    expect(guide.mimeType).toBe('text/markdown');
    expect(guide.text).toBe(readFileSync(join(KNOWLEDGE, 'nccl/tuning-guide.md'), 'utf8'));
    const table = await read('tuneloop://knowledge/nccl/params.json');
    expect(table.mimeType).toBe('application/json');
    const sched = await read('tuneloop://schedulers/scx_lavd');
    expect(JSON.parse(sched.text!)).toMatchObject({ name: 'scx_lavd', flags: expect.any(Array), scx_version: expect.any(String) });
  });

  it('reads workloads, runs and rules as JSON', async () => {
    await call('workload', { action: 'create', name: 'zip', command: ['gzip', '-k', 'f'] });
    const run = (await call('record_run', { domain: 'workload', workload: 'zip', config: { level: 6 }, metrics: { wall_s: 1.5 }, primary_metric: 'wall_s', direction: 'lower' })).structuredContent as { run: { id: number; workload_id: number } };
    const rule = (await call('rules', { action: 'add', domain: 'workload', patch: { level: 1 }, evidence: [run.run.id] })).structuredContent as { rule: { id: number } };
    const w = JSON.parse((await read(`tuneloop://workloads/${run.run.workload_id}`)).text!);
    expect(w).toMatchObject({ workload: { name: 'zip' }, best_configs: [{ config: { level: 6 }, n: 1 }], recent_runs: [{ id: run.run.id }] });
    const r = JSON.parse((await read(`tuneloop://runs/${run.run.id}`)).text!);
    expect(r).toMatchObject({ id: run.run.id, config: { level: 6 }, context: { host: expect.any(String) } });
    expect(JSON.parse((await read(`tuneloop://rules/${rule.rule.id}`)).text!)).toMatchObject({ patch: { level: 1 }, evidence: [run.run.id] });
    const { resources } = await client.listResources();
    expect(resources.map((x) => x.uri)).toEqual(expect.arrayContaining([`tuneloop://workloads/${run.run.workload_id}`, `tuneloop://runs/${run.run.id}`, `tuneloop://rules/${rule.rule.id}`]));
  });

  it('pages a large archive file and returns small ones whole', async () => {
    const base = `tuneloop://archives/20260101T000000Z-softmax-1.50x/big.log`;
    let uri = base;
    let text = '';
    for (let pages = 0; pages < 10; pages++) {
      const page = await read(uri);
      expect(page.mimeType).toBe('text/plain');
      const m = /\n\[tuneloop: bytes (\d+)-(\d+) of (\d+)(?:; next page: (\S+)\]|; last page\])$/.exec(page.text!);
      expect(m).not.toBeNull();
      text += page.text!.slice(0, m!.index);
      if (!m![4]) break;
      uri = m![4];
    }
    expect(text).toBe(big);
    const small = await read('tuneloop://archives/20260101T000000Z-softmax-1.50x/metrics.json');
    expect(small).toMatchObject({ mimeType: 'application/json', text: '{"speedup": 1.5}' });
  });

  it('refuses paths outside a resource root and unknown ids, with a remedy', async () => {
    for (const uri of [
      'tuneloop://knowledge/../package.json',
      'tuneloop://knowledge/%2e%2e/package.json',
      'tuneloop://archives/20260101T000000Z-softmax-1.50x/escape.txt',
      'tuneloop://archives/20260101T000000Z-softmax-1.50x/../../tuneloop.db',
      'tuneloop://archives/../x/y',
      'tuneloop://runs/999999',
      'tuneloop://workloads/abc',
      'tuneloop://schedulers/scx_nope',
    ]) {
      await expect(client.readResource({ uri }), uri).rejects.toThrow(/outside|not a regular file|No such file|Invalid archive|No run|not a workload id|No scheduler|No archive|not found/);
    }
  });
});
