/**
 * Prompts over real stdio (issue 13, item 5): prompts/list always answers (clients report "Method
 * not found" as a failure), only prompts whose tools are registered are listed, and every tool a
 * prompt names exists on that server.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { loadAllTools } from '../../src/tool-index.js';
import { startStdioServer } from '../helpers/stdio.js';
import { tempDir } from '../helpers/tmp.js';

const TOOL_NAMES = (await loadAllTools()).map((t) => t.name);

async function server(args: string[]): Promise<Client> {
  const { client } = await startStdioServer(['serve', ...args], { TUNELOOP_HOME: tempDir() });
  afterAll(() => client.close());
  return client;
}

/** Tool names a prompt text mentions. */
function mentionedTools(text: string): string[] {
  return TOOL_NAMES.filter((name) => new RegExp(`\\b${name}\\b`).test(text));
}

describe('prompts with every toolset', async () => {
  const client = await server([]);
  const registered = (await client.listTools()).tools.map((t) => t.name);

  it('lists the four guided loops with their arguments', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual(['diagnose_incident', 'optimize_kernel', 'tune_nccl', 'tune_scheduler']);
    const nccl = prompts.find((p) => p.name === 'tune_nccl')!;
    expect(nccl.arguments!.map((a) => [a.name, a.required])).toEqual([
      ['collective', true],
      ['scale', true],
      ['goal', false],
    ]);
  });

  it.each([
    ['tune_scheduler', { command: 'make -j8', goal: 'lower wall time' }, ['benchmark_workload', 'suggest_config', 'compare_runs', 'rules', 'search_knowledge']],
    ['tune_nccl', { collective: 'all_reduce', scale: '2 nodes x 8 GPUs' }, ['run_nccl_tests', 'nccl_sweep', 'suggest_config', 'compare_runs', 'nccl_env']],
    ['optimize_kernel', { case: 'softmax' }, ['triton_profile', 'triton_verify', 'compare_runs']],
    ['diagnose_incident', { symptom: 'training hangs', sources: 'journal' }, ['diagnose_logs', 'gpu_status', 'search_knowledge', 'scrape_metrics']],
  ])('%s walks observe -> plan -> execute -> learn with tools this server has', async (name, args, expected) => {
    const r = await client.getPrompt({ name, arguments: args });
    const text = r.messages.map((m) => (m.content.type === 'text' ? m.content.text : '')).join('\n');
    expect(text).toMatch(/1\. Observe[\s\S]*Plan[\s\S]*Execute[\s\S]*Learn/);
    for (const value of Object.values(args)) expect(text).toContain(value);
    for (const tool of expected) expect(text).toContain(tool);
    for (const tool of mentionedTools(text)) expect(registered).toContain(tool);
  });

  it('says which argument is missing', async () => {
    await expect(client.getPrompt({ name: 'tune_nccl', arguments: { collective: 'all_reduce' } })).rejects.toThrow(/scale/);
  });
});

describe('prompts follow the enabled toolsets', async () => {
  const observeOnly = await server(['--toolsets', 'observe']);
  const readOnlyHistory = await server(['--read-only', '--toolsets', 'history']);

  it('lists only the prompts whose tools are registered, and their text names only those tools', async () => {
    const { prompts } = await observeOnly.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['diagnose_incident']);
    const registered = (await observeOnly.listTools()).tools.map((t) => t.name);
    const r = await observeOnly.getPrompt({ name: 'diagnose_incident', arguments: { symptom: 'slow' } });
    const text = r.messages.map((m) => (m.content.type === 'text' ? m.content.text : '')).join('\n');
    for (const tool of mentionedTools(text)) expect(registered).toContain(tool);
    expect(text).not.toContain('search_knowledge');
  });

  it('answers prompts/list with an empty list when no prompt qualifies', async () => {
    expect((await readOnlyHistory.listPrompts()).prompts).toEqual([]);
  });
});
