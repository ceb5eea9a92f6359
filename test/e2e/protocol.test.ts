/**
 * The built server over real stdio: what any MCP client relies on. Guards the complaints users
 * have about MCP servers (../shared/reference/mcp.md): stray stdout, servers that never exit,
 * zombie children, errors a model cannot act on.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { startStdioServer } from '../helpers/stdio.js';
import { tempDir } from '../helpers/tmp.js';
import { isAlive, waitFor } from '../helpers/proc.js';
import { readFileSync, readdirSync } from 'node:fs';

const FAKE_BIN = resolve(import.meta.dirname, '../fixtures/incidents/bin');
const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

/** Pids whose parent is `ppid` (one level). */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

describe('stdio server', async () => {
  const home = tempDir();
  const { client, transport } = await startStdioServer(['serve'], { TUNELOOP_HOME: home, PATH: `${FAKE_BIN}:${process.env.PATH}` });
  afterAll(() => client.close());
  const { tools } = await client.listTools();
  const validator = new AjvJsonSchemaValidator();
  const schemaOf = (name: string) => (tools.find((t) => t.name === name) as Tool).outputSchema!;

  const calls: [string, Record<string, unknown>][] = [
    ['system_snapshot', { top: 3, sample_ms: 100 }],
    ['workload', { action: 'create', name: 'e2e', command: ['true'] }],
    ['workload', { action: 'list' }],
    ['record_run', { domain: 'other', workload: 'e2e', config: { a: 1 }, metrics: { t: 1.5 }, primary_metric: 't', direction: 'lower' }],
    ['record_run', { domain: 'other', workload: 'e2e', config: { a: 2 }, metrics: { t: 1.2 }, primary_metric: 't', direction: 'lower' }],
    ['get_history', { workload: 'e2e' }],
    ['workload', { action: 'get', workload: 'e2e' }],
    ['system_monitor', { action: 'status' }],
  ];

  it.each(calls)('%s returns structured content valid against its output schema', async (name, args) => {
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    expect(result.isError, text(result)).toBeFalsy();
    const check = validator.getValidator(schemaOf(name))(result.structuredContent);
    expect(check.valid, check.errorMessage).toBe(true);
    expect(text(result).length).toBeGreaterThan(0);
  });

  it('turns malformed and out-of-range arguments into errors that name the field', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['get_history', { limit: 0 }, /limit/],
      ['get_history', { sort: 'random' }, /sort/],
      ['system_monitor', { action: 'start', interval_ms: 20_000 }, /interval_ms/],
      ['record_run', { domain: 'gpu', config: {}, metrics: {}, primary_metric: 'x', direction: 'lower' }, /domain/],
      ['record_run', { domain: 'other', config: {}, metrics: { x: 'fast' }, primary_metric: 'x', direction: 'lower' }, /metrics/],
      ['job_status', {}, /job_id/],
      ['system_snapshot', { top: 5, verbose: true }, /Unknown argument\(s\) "verbose"/],
    ];
    for (const [name, args, pattern] of cases) {
      const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
      expect(r.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(text(r)).toMatch(pattern);
    }
    const unknown = (await client.callTool({ name: 'no_such_tool', arguments: {} })) as CallToolResult;
    expect(unknown.isError).toBe(true);
  });

  it('exposes job logs as resources', async () => {
    const templates = await client.listResourceTemplates();
    expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toContain('tuneloop://jobs/{job_id}/log');
  });

  it('never wrote anything but JSON-RPC to stdout', () => {
    expect(transport.stdoutLines.length).toBeGreaterThan(calls.length);
    expect(transport.badLines).toEqual([]);
  });
});

describe('stdio server lifecycle', () => {
  it('exits within 2 s of stdin closing, leaving no child behind', async () => {
    const { client, transport } = await startStdioServer(['serve'], { TUNELOOP_HOME: tempDir(), PATH: `${FAKE_BIN}:${process.env.PATH}` });
    // A monitor session keeps a streaming nvidia-smi child running.
    await client.callTool({ name: 'system_monitor', arguments: { action: 'start', interval_ms: 100 } });
    const serverPid = transport.child.pid!;
    expect(await waitFor(() => childrenOf(serverPid).length >= 2, 5000)).toBe(true); // reaper + nvidia-smi
    const children = childrenOf(serverPid);
    const started = Date.now();
    transport.child.stdin!.end();
    const exit = await transport.exited();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(exit.code).toBe(0);
    expect(await waitFor(() => children.every((pid) => !isAlive(pid)), 3000)).toBe(true);
  });

  it('kills its children through the reaper when it is killed with SIGKILL', async () => {
    const { client, transport } = await startStdioServer(['serve'], { TUNELOOP_HOME: tempDir(), PATH: `${FAKE_BIN}:${process.env.PATH}` });
    await client.callTool({ name: 'system_monitor', arguments: { action: 'start', interval_ms: 100 } });
    const serverPid = transport.child.pid!;
    expect(await waitFor(() => childrenOf(serverPid).length >= 2, 5000)).toBe(true);
    const children = childrenOf(serverPid);
    transport.child.kill('SIGKILL');
    await transport.exited();
    expect(await waitFor(() => children.every((pid) => !isAlive(pid)), 5000)).toBe(true);
  });

  it('hides every tool that is not read-only with --read-only, and limits toolsets with --toolsets', async () => {
    const ro = await startStdioServer(['serve', '--read-only'], { TUNELOOP_HOME: tempDir() });
    const { tools } = await ro.client.listTools();
    expect(tools.length).toBeGreaterThan(0);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    expect(tools.map((t) => t.name)).not.toContain('record_run');
    await ro.client.close();
    const some = await startStdioServer(['serve', '--toolsets', 'history'], { TUNELOOP_HOME: tempDir() });
    const names = (await some.client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(['compare_runs', 'get_history', 'job_cancel', 'job_status', 'record_run', 'rules', 'search_knowledge', 'suggest_config', 'workload']);
    await some.client.close();
  });

  it('refuses an unknown toolset at start with a message on stderr', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [resolve(import.meta.dirname, '../../dist/cli.js'), 'serve', '--toolsets', 'gpu'], { encoding: 'utf8', input: '' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Unknown toolset "gpu"/);
  });
});
