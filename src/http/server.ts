/**
 * tuneloop over Streamable HTTP (the SDK's transport) at /mcp: several sessions in one process.
 *
 * Each session (an `initialize` without a session id) gets its own transport, its own McpServer and
 * an event store for resumability, over the process's one runtime (store, jobs, schedulers,
 * monitors). Closing a session (DELETE, or idle for SESSION_IDLE_MS) ends only its protocol state:
 * what its tools started belongs to the runtime and ends at its own bounds (a job's end, a
 * scheduler's watchdog, a monitor's max_duration_s) or at server shutdown, so another session, or
 * the same client reconnecting, can still poll or cancel it.
 *
 * Every request passes, in order: path (/mcp, else 404), Host (loopback binds answer only to
 * loopback names, else 403), Origin (403), bearer token (401 with WWW-Authenticate), body size (413).
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { UserError } from '../core/errors.js';
import type { Runtime } from '../core/runtime.js';
import { describeBug } from '../core/log.js';
import { createSessionServer } from '../server.js';
import { checkBearer, hostAllowed, originAllowed, type HttpOptions } from './access.js';
import { SessionEventStore } from './event-store.js';

export const MCP_PATH = '/mcp';
const MAX_BODY_BYTES = 4 << 20;
const MAX_SESSIONS = 64;
const SESSION_IDLE_MS = 60 * 60 * 1000;
const SWEEP_MS = 60 * 1000;

interface Session {
  transport: StreamableHTTPServerTransport;
  close(): Promise<void>;
  lastSeen: number;
  inFlight: number;
}

export interface HttpServer {
  /** The MCP endpoint, e.g. http://127.0.0.1:8731/mcp. */
  url: string;
  sessionCount(): number;
  /** Stop listening and close every session; the runtime is the caller's to shut down. */
  close(): Promise<void>;
}

export async function startHttpServer(runtime: Runtime, options: HttpOptions): Promise<HttpServer> {
  const sessions = new Map<string, Session>();

  const openSession = async (): Promise<StreamableHTTPServerTransport> => {
    const session = createSessionServer(runtime);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new SessionEventStore(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, close: session.close, lastSeen: Date.now(), inFlight: 0 });
        runtime.log('info', `HTTP session ${id} opened (${sessions.size} open)`);
      },
    });
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id && sessions.delete(id)) runtime.log('info', `HTTP session ${id} closed (${sessions.size} open)`);
      void session.close();
    };
    await session.server.connect(transport);
    return transport;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://host');
    if (url.pathname !== MCP_PATH) return reply(res, 404, `Not found: the MCP endpoint is ${MCP_PATH}.`);
    if (!hostAllowed(req.headers.host, options.host)) {
      return reply(res, 403, `Host "${req.headers.host ?? ''}" refused: a loopback server answers only to localhost, 127.0.0.1 and [::1] (DNS rebinding protection).`);
    }
    if (!originAllowed(req.headers.origin, options.allowedOrigins)) {
      return reply(res, 403, `Origin "${req.headers.origin}" refused (DNS rebinding protection); the operator may allow it with --allowed-origins.`);
    }
    const auth = checkBearer(req.headers.authorization, options.tokens);
    if (auth !== 'ok') {
      res.setHeader('WWW-Authenticate', auth === 'missing' ? 'Bearer realm="tuneloop"' : 'Bearer realm="tuneloop", error="invalid_token"');
      return reply(res, 401, auth === 'missing' ? 'Authentication required: send Authorization: Bearer <token>.' : 'The bearer token is not valid.');
    }

    let body: unknown;
    if (req.method === 'POST') {
      const read = await readJson(req);
      if (read.error) return reply(res, read.status, read.error);
      body = read.value;
    }
    const id = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(id) ? id[0] : id;
    const session = sessionId ? sessions.get(sessionId) : undefined;
    if (sessionId && !session) return reply(res, 404, `Unknown or expired session ${sessionId}: initialize a new one.`, -32001);
    if (session) {
      session.lastSeen = Date.now();
      session.inFlight++;
      try {
        await session.transport.handleRequest(req, res, body);
      } finally {
        session.inFlight--;
        session.lastSeen = Date.now();
      }
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) return reply(res, 400, 'No session: send an initialize request without mcp-session-id first.');
    if (sessions.size >= MAX_SESSIONS) return reply(res, 503, `${MAX_SESSIONS} sessions are open; close one (DELETE ${MCP_PATH}) or wait for idle ones to expire.`);
    const transport = await openSession();
    await transport.handleRequest(req, res, body);
  };

  const http = createHttpServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      runtime.log('error', `HTTP request failed: ${describeBug(error)}`);
      if (!res.headersSent) reply(res, 500, 'Internal error; see the server log.', -32603);
      else res.end();
    });
  });
  // Long tool calls stream for up to a minute (wait_s <= 50) and SSE streams stay open: no request timeout.
  http.requestTimeout = 0;
  // Keep idle connections longer than clients do (undici: 4 s), so a client never sends on a socket
  // the server is closing at that moment ("other side closed").
  http.keepAliveTimeout = 75_000;
  http.headersTimeout = 80_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL'
          ? new UserError(`Cannot listen on ${options.host}:${options.port}: ${error.code}.`, error.code === 'EADDRINUSE' ? 'Another process uses that port: choose another --port (0: any free one).' : 'Choose an address this host has and a port above 1023, or run with the privilege to bind it.')
          : error,
      ),
    );
    http.listen(options.port, options.host, () => resolve());
  });

  // A client that vanished without DELETE leaves its session: close it after an idle hour.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const s of sessions.values()) if (s.inFlight === 0 && now - s.lastSeen > SESSION_IDLE_MS) void s.transport.close();
  }, SWEEP_MS);
  sweep.unref();

  const address = http.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}${MCP_PATH}`,
    sessionCount: () => sessions.size,
    async close() {
      clearInterval(sweep);
      const closing = new Promise<void>((resolve) => http.close(() => resolve()));
      await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => {})));
      http.closeAllConnections();
      await closing;
    },
  };
}

/** An error answer in JSON-RPC form, which MCP clients show. */
function reply(res: ServerResponse, status: number, message: string, code = -32000): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

async function readJson(req: IncomingMessage): Promise<{ value?: unknown; error?: string; status: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { error: `Request body over ${MAX_BODY_BYTES >> 20} MiB.`, status: 413 };
    chunks.push(chunk);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')), status: 200 };
  } catch {
    return { error: 'The request body is not JSON.', status: 400 };
  }
}
