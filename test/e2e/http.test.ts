/**
 * `tuneloop serve --http` end to end: the built CLI as a real HTTP server process, driven by the
 * SDK's Streamable HTTP client (and raw fetch where a test must control the wire: a dropped SSE
 * stream, a forged Origin or Host). Slow-ish: each describe starts a server process (~1 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI } from '../helpers/stdio.js';
import { tempDir } from '../helpers/tmp.js';

const TOKEN = 'test-token-0123456789abcdef';

interface Served {
  url: string;
  child: ChildProcess;
  home: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function serveHttp(args: string[] = [], env: Record<string, string> = {}): Promise<Served> {
  const home = tempDir();
  const child = spawn(process.execPath, [CLI, 'serve', '--http', '--port', '0', ...args], {
    env: { ...process.env, TUNELOOP_HOME: home, TUNELOOP_HTTP_TOKEN: TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /serving MCP over HTTP at (\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
  afterAll(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  return { url, child, home, stderr: () => stderr, exited };
}

async function connect(url: string, token = TOKEN): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'http-test', version: '0' });
  await client.connect(transport);
  afterAll(() => client.close().catch(() => {}));
  return { client, transport };
}

const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
const MCP_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

describe('tuneloop serve --http', async () => {
  const served = await serveHttp();

  it('serves the tools at /mcp to a client with the token', async () => {
    const { client, transport } = await connect(served.url);
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['system_snapshot', 'run_scheduler', 'get_history', 'job_status']));
    const r = (await client.callTool({ name: 'workload', arguments: { action: 'create', name: 'http-made', command: ['true'] } })) as CallToolResult;
    expect(r.isError).toBeFalsy();
    const list = (await client.callTool({ name: 'workload', arguments: { action: 'list' } })) as CallToolResult;
    expect(JSON.stringify(list.structuredContent)).toContain('http-made');
  });

  it('runs a job and streams its progress', async () => {
    const { client } = await connect(served.url);
    const progress: number[] = [];
    const r = (await client.callTool(
      { name: 'benchmark_workload', arguments: { command: ['sleep', '0.3'], warmup: 0, repeats: 4, scheduler: 'default', ab: false, wait_s: 30 } },
      undefined,
      { onprogress: (p) => progress.push(p.progress) },
    )) as CallToolResult;
    expect(r.isError).toBeFalsy();
    expect((r.structuredContent as { status: string }).status).toBe('succeeded');
    expect(progress.length).toBeGreaterThan(0);
  });

  it('answers 401 with WWW-Authenticate without a token or with a wrong one', async () => {
    const none = await fetch(served.url, { method: 'POST', headers: MCP_HEADERS, body: initialize });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="tuneloop"');
    const wrong = await fetch(served.url, { method: 'POST', headers: { ...MCP_HEADERS, Authorization: `Bearer ${TOKEN}x` }, body: initialize });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    await expect(connect(served.url, 'not-the-token-but-long-enough')).rejects.toThrow(/bearer token is not valid/);
  });

  it('refuses a foreign Origin and a foreign Host (DNS rebinding), even with the token', async () => {
    const auth = { ...MCP_HEADERS, Authorization: `Bearer ${TOKEN}` };
    const origin = await fetch(served.url, { method: 'POST', headers: { ...auth, Origin: 'http://evil.example' }, body: initialize });
    expect(origin.status).toBe(403);
    expect(((await origin.json()) as { error: { message: string } }).error.message).toContain('Origin "http://evil.example" refused');
    const port = new URL(served.url).port;
    // fetch drops a Host header it is given: node:http sends it as a rebinding browser would.
    const hostStatus = await new Promise<number>((resolve, reject) => {
      const req = request(served.url, { method: 'POST', headers: { ...auth, Host: `rebind.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(initialize);
    });
    expect(hostStatus).toBe(403);
    const local = await fetch(served.url, { method: 'POST', headers: { ...auth, Origin: `http://localhost:${port}` }, body: initialize });
    expect(local.status).toBe(200);
    expect(local.headers.get('mcp-session-id')).toBeTruthy();
  });

  it('keeps sessions apart: closing one does not stop the job another started', async () => {
    const a = await connect(served.url);
    const b = await connect(served.url);
    expect(a.transport.sessionId).not.toBe(b.transport.sessionId);
    const started = (await b.client.callTool({
      name: 'benchmark_workload',
      arguments: { command: ['sleep', '0.5'], warmup: 0, repeats: 3, scheduler: 'default', ab: false, wait_s: 0 },
    })) as CallToolResult;
    const jobId = (started.structuredContent as { job_id: string }).job_id;
    // Both sessions work at once.
    const [ra, rb] = await Promise.all([
      a.client.callTool({ name: 'get_history', arguments: { limit: 1 } }),
      b.client.callTool({ name: 'job_status', arguments: { job_id: jobId, wait_s: 0 } }),
    ]);
    expect((ra as CallToolResult).isError).toBeFalsy();
    expect(((rb as CallToolResult).structuredContent as { status: string }).status).toBe('running');
    await b.transport.terminateSession();
    await b.client.close();
    // The job belongs to the server, not the session: the other session sees it finish.
    const done = (await a.client.callTool({ name: 'job_status', arguments: { job_id: jobId, wait_s: 30 } })) as CallToolResult;
    expect((done.structuredContent as { status: string }).status).toBe('succeeded');
    // The closed session is gone.
    const stale = await fetch(served.url, { method: 'POST', headers: { ...MCP_HEADERS, Authorization: `Bearer ${TOKEN}`, 'mcp-session-id': b.transport.sessionId ?? 'x' }, body: initialize });
    expect(stale.status).toBe(404);
  });

  it('resumes a dropped stream: progress and the answer are replayed after Last-Event-ID', async () => {
    const auth = { ...MCP_HEADERS, Authorization: `Bearer ${TOKEN}`, 'mcp-protocol-version': '2025-06-18' };
    const init = await fetch(served.url, { method: 'POST', headers: auth, body: initialize });
    const session = init.headers.get('mcp-session-id')!;
    await init.text();
    const headers = { ...auth, 'mcp-session-id': session };
    await (await fetch(served.url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
    const call = {
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'benchmark_workload', arguments: { command: ['sleep', '0.4'], warmup: 0, repeats: 4, scheduler: 'default', ab: false, wait_s: 30 }, _meta: { progressToken: 'p1' } },
    };
    const abort = new AbortController();
    const first = await fetch(served.url, { method: 'POST', headers, body: JSON.stringify(call), signal: abort.signal });
    // Read until the first event with an id, then drop the connection.
    const reader = first.body!.getReader();
    let text = '';
    let lastId: string | undefined;
    while (!lastId?.length || !/"progress"/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
      lastId = [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]).pop();
    }
    abort.abort();
    expect(lastId).toBeTruthy();
    expect(text).not.toContain('"result"');
    // Reconnect: GET with Last-Event-ID replays what followed, up to the final answer.
    // Until the server has seen the first connection close, the stream is still taken (409): retry
    // as the SDK client's reconnection does.
    let resumed: Response;
    for (let attempt = 0; ; attempt++) {
      resumed = await fetch(served.url, { method: 'GET', headers: { ...headers, Accept: 'text/event-stream', 'last-event-id': lastId! } });
      if (resumed.status !== 409 || attempt === 50) break;
      await resumed.text();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(resumed.status).toBe(200);
    const replayReader = resumed.body!.getReader();
    let replay = '';
    while (!replay.includes('"id":7')) {
      const { value, done } = await replayReader.read();
      if (done) break;
      replay += Buffer.from(value).toString();
    }
    await replayReader.cancel();
    expect(replay).toMatch(/"id":7/);
    expect(replay).toContain('"status":"succeeded"');
  });
});

describe('tuneloop serve --http --read-only', async () => {
  const served = await serveHttp(['--read-only', '--toolsets', 'observe,history']);

  it('offers the same toolsets and read-only mode as stdio', async () => {
    const { client } = await connect(served.url);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('get_history');
    expect(names).not.toContain('record_run');
    expect(names).not.toContain('run_scheduler');
  });
});

describe('shutdown and refusals', () => {
  it('SIGTERM closes the sessions and marks running jobs interrupted, like stdio', async () => {
    const served = await serveHttp();
    const { client } = await connect(served.url);
    const started = (await client.callTool({
      name: 'benchmark_workload',
      arguments: { command: ['sleep', '20'], warmup: 0, repeats: 2, scheduler: 'default', ab: false, wait_s: 0 },
    })) as CallToolResult;
    const jobId = (started.structuredContent as { job_id: string }).job_id;
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
    const db = new Database(join(served.home, 'tuneloop.db'), { readonly: true });
    const row = db.prepare('SELECT status FROM jobs WHERE id = ?').get(jobId) as { status: string };
    db.close();
    expect(row.status).toBe('interrupted');
  });

  it('refuses a non-loopback bind without a token, and a token file others can read', async () => {
    const run = (args: string[], env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'serve', '--http', ...args], { env: { ...process.env, TUNELOOP_HOME: tempDir(), TUNELOOP_HTTP_TOKEN: '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
    const open = await run(['--host', '0.0.0.0', '--port', '0']);
    expect(open.code).toBe(2);
    expect(open.stderr).toContain('Refusing to serve on 0.0.0.0 without a token');
    const file = join(tempDir(), 'tokens');
    writeFileSync(file, `${TOKEN}\n`);
    chmodSync(file, 0o644);
    const leaky = await run(['--token-file', file, '--port', '0']);
    expect(leaky.code).toBe(2);
    expect(leaky.stderr).toContain('chmod 600');
    const short = await run(['--port', '0'], { TUNELOOP_HTTP_TOKEN: 'short' });
    expect(short.stderr).toContain('tokens need at least 16');
    const lingering = await run(['--port', '0', '--keep-jobs'], { TUNELOOP_HTTP_TOKEN: TOKEN });
    expect(lingering.code).toBe(2);
    expect(lingering.stderr).toContain('--keep-jobs is for a stdio server');
    const taken = createNetServer().listen(0, '127.0.0.1');
    await new Promise((r) => taken.once('listening', r));
    try {
      const busy = await run(['--port', String((taken.address() as AddressInfo).port)], { TUNELOOP_HTTP_TOKEN: TOKEN });
      expect(busy.code).toBe(2);
      expect(busy.stderr).toContain('Another process uses that port');
    } finally {
      taken.close();
    }
  });
});

describe('a token file with several tokens', async () => {
  const file = join(tempDir(), 'tokens');
  writeFileSync(file, '# one per client\nalice-0123456789abcdef\nbob-0123456789abcdef0\n');
  chmodSync(file, 0o600);
  const served = await serveHttp(['--token-file', file], { TUNELOOP_HTTP_TOKEN: '' });

  it('accepts each of them', async () => {
    for (const token of ['alice-0123456789abcdef', 'bob-0123456789abcdef0']) {
      const { client } = await connect(served.url, token);
      expect((await client.listTools()).tools.length).toBeGreaterThan(5);
    }
    await expect(connect(served.url, TOKEN)).rejects.toThrow();
  });
});

