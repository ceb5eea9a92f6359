/**
 * Slow: four real server processes record 500 runs each at once.
 *
 * Several client sessions share one data dir: 4 server processes each record 500 runs at once
 * through MCP. Every write is an IMMEDIATE transaction behind a busy timeout, so all 2000 land.
 */
import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startStdioServer } from '../helpers/stdio.js';
import { tempDir } from '../helpers/tmp.js';

const SERVERS = 4;
const RUNS = 500;
const IN_FLIGHT = 8;

describe('a data dir shared by 4 servers', () => {
  it('keeps all 2000 runs recorded concurrently', async () => {
    const home = tempDir();
    const servers = await Promise.all(Array.from({ length: SERVERS }, () => startStdioServer(['serve', '--toolsets', 'history'], { TUNELOOP_HOME: home })));
    const failures: string[] = [];
    await Promise.all(
      servers.map(async ({ client }, s) => {
        let next = 0;
        const worker = async () => {
          while (next < RUNS) {
            const i = next++;
            const r = (await client.callTool(
              { name: 'record_run', arguments: { domain: 'other', config: { server: s, i: i % 10 }, metrics: { value: i }, primary_metric: 'value', direction: 'higher' } },
              undefined,
              { timeout: 120_000 },
            )) as CallToolResult;
            if (r.isError) failures.push(JSON.stringify(r.content));
          }
        };
        await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      }),
    );
    expect(failures).toEqual([]);
    const { client } = servers[0];
    let total = 0;
    let offset = 0;
    for (;;) {
      const page = (await client.callTool({ name: 'get_history', arguments: { limit: 200, offset, aggregates: false } })).structuredContent as { runs: unknown[]; next_offset: number | null };
      total += page.runs.length;
      if (page.next_offset === null) break;
      offset = page.next_offset;
    }
    expect(total).toBe(SERVERS * RUNS);
    const aggs = (await client.callTool({ name: 'get_history', arguments: { limit: 1 } })).structuredContent as { aggregates: { n: number }[] };
    // 40 configs (4 servers x 10), 50 runs each; aggregates list the best 10 of them.
    expect(aggs.aggregates.every((a) => a.n === RUNS / 10)).toBe(true);
    await Promise.all(servers.map((s) => s.client.close()));
  }, 300_000);
});
