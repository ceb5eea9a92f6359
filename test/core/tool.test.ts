/** defineTool + runAsJob through a real MCP link: progress notifications, job results, errors. */
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { UserError } from '../../src/core/errors.js';
import { jobOutputSchema } from '../../src/core/jobs.js';
import { createRuntime } from '../../src/core/runtime.js';
import { defineTool, runAsJob, summarizeJob, waitSeconds } from '../../src/core/tool.js';
import { jobTools } from '../../src/core/job-tools.js';
import { registerTool } from '../../src/server-tools.js';
import { registerResources } from '../../src/mcp/resources.js';
import { testConfig } from '../helpers/runtime.js';

const countTool = defineTool({
  name: 'count_up',
  toolset: 'history',
  title: 'Count up',
  description: 'A test job that counts to n, reporting progress at each step.',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ n: z.number().int().min(1).describe('How far.'), step_ms: z.number().describe('Delay per step.'), fail: z.boolean().default(false).describe('Fail at the end.'), wait_s: waitSeconds }),
  output: jobOutputSchema(z.object({ counted: z.number() })),
  async handler(args, ctx) {
    return runAsJob(ctx, 'count_up', args, args.wait_s, async (job) => {
      for (let i = 1; i <= args.n; i++) {
        await new Promise((r) => setTimeout(r, args.step_ms));
        if (job.signal.aborted) throw new Error('aborted');
        job.progress({ done: i, total: args.n, message: `step ${i}` });
      }
      if (args.fail) throw new UserError('counting failed', 'count less');
      return { counted: args.n };
    });
  },
  summarize: (v) => summarizeJob(v, (r: { counted: number }) => `counted ${r.counted}`),
});

describe('job tools over MCP', async () => {
  const runtime = createRuntime(testConfig(), {});
  const server = new McpServer({ name: 't', version: '0' }, { capabilities: { logging: {} } });
  for (const tool of [countTool, ...jobTools]) registerTool(server, runtime, tool as never);
  registerResources(server, runtime);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  const client = new Client({ name: 't', version: '0' });
  await client.connect(a);
  await client.listTools();
  afterAll(async () => {
    await client.close();
    await runtime.shutdown();
  });

  it('returns the result when the job ends within wait_s, sending progress to a client that asked', async () => {
    const seen: number[] = [];
    const r = (await client.callTool({ name: 'count_up', arguments: { n: 4, step_ms: 300, wait_s: 10 } }, undefined, { onprogress: (p) => seen.push(p.progress) })) as CallToolResult;
    expect(r.structuredContent).toMatchObject({ status: 'succeeded', result: { counted: 4 }, progress: { done: 4, total: 4 } });
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    expect(r.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/succeeded[\s\S]*counted 4/) });
  });

  it('answers "running" after wait_s, and job_status picks the job up', async () => {
    const first = (await client.callTool({ name: 'count_up', arguments: { n: 5, step_ms: 200, wait_s: 0 } })) as CallToolResult;
    const view = first.structuredContent as { job_id: string; status: string };
    expect(view.status).toBe('running');
    expect(first.content[0]).toMatchObject({ text: expect.stringMatching(/Poll with job_status/) });
    const done = (await client.callTool({ name: 'job_status', arguments: { job_id: view.job_id, wait_s: 10 } })) as CallToolResult;
    expect(done.structuredContent).toMatchObject({ job_id: view.job_id, status: 'succeeded', result: { counted: 5 } });
  });

  it('serves a job log as a resource, and refuses an unknown job', async () => {
    const r = (await client.callTool({ name: 'count_up', arguments: { n: 1, step_ms: 1, fail: true, wait_s: 10 } })) as CallToolResult;
    const id = (r.structuredContent as { job_id: string }).job_id;
    const log = await client.readResource({ uri: `tuneloop://jobs/${id}/log` });
    expect(log.contents[0]).toMatchObject({ mimeType: 'text/plain', text: expect.stringContaining('job failed: counting failed') });
    await expect(client.readResource({ uri: 'tuneloop://jobs/job-nope-000000/log' })).rejects.toThrow(/No job with id "job-nope-000000"/);
  });

  it('reports a failed job as an error (issue 9 section 4): the cause first, the job view still carried', async () => {
    const r = (await client.callTool({ name: 'count_up', arguments: { n: 1, step_ms: 1, fail: true, wait_s: 10 } })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(r.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/^counting failed\n/) });
    expect(r.structuredContent).toMatchObject({ status: 'failed', error: 'counting failed\nRemedy: count less' });
    const id = (r.structuredContent as { job_id: string }).job_id;
    const later = (await client.callTool({ name: 'job_status', arguments: { job_id: id, wait_s: 0 } })) as CallToolResult;
    expect(later.isError).toBe(true);
    expect(later.structuredContent).toMatchObject({ job_id: id, status: 'failed' });
  });

  it('cancels a running job', async () => {
    const first = (await client.callTool({ name: 'count_up', arguments: { n: 100, step_ms: 100, wait_s: 0 } })) as CallToolResult;
    const id = (first.structuredContent as { job_id: string }).job_id;
    const r = (await client.callTool({ name: 'job_cancel', arguments: { job_id: id } })) as CallToolResult;
    expect(r.isError).toBeFalsy(); // what job_cancel was asked for happened
    expect(r.structuredContent).toMatchObject({ status: 'canceled', error: 'Canceled by job_cancel.' });
    const after = (await client.callTool({ name: 'job_status', arguments: { job_id: id, wait_s: 0 } })) as CallToolResult;
    expect(after.isError).toBe(true); // the job's own answer: it did not do its work
    expect(after.content[0]).toMatchObject({ text: expect.stringMatching(/^Canceled by job_cancel\./) });
  });
});
