/**
 * Who may talk to `tuneloop serve --http`: bearer tokens, compared in constant time; the Host and
 * Origin headers checked against DNS rebinding (a web page whose name resolves to 127.0.0.1 must not
 * reach a loopback server through the user's browser); a non-loopback bind refused without a token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { UserError } from '../core/errors.js';

export interface HttpOptions {
  host: string;
  port: number;
  /** Accepted bearer tokens; empty: no authentication (loopback only). */
  tokens: string[];
  /** Origins allowed besides the loopback ones (http(s)://localhost, 127.0.0.1, [::1], any port). */
  allowedOrigins: string[];
}

export interface HttpFlags {
  host?: string;
  port?: string;
  tokenFile?: string;
  allowedOrigins?: string;
}

export const DEFAULT_HTTP_PORT = 8731;
const MIN_TOKEN_LENGTH = 16;
const TOKEN_REMEDY = 'Make one with `openssl rand -hex 32`.';

type Env = Record<string, string | undefined>;

export function loadHttpOptions(flags: HttpFlags, env: Env = process.env): HttpOptions {
  const host = flags.host ?? '127.0.0.1';
  if (host !== 'localhost' && !isIP(host)) throw new UserError(`--host "${host}" is not an IP address.`, 'Give the address to bind to, e.g. 127.0.0.1 (default), ::1 or 0.0.0.0.');
  const port = flags.port === undefined ? DEFAULT_HTTP_PORT : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port "${flags.port}" is not a port number.`, 'Give 1-65535, or 0 for any free port.');
  const tokens = [...(flags.tokenFile ? readTokenFile(flags.tokenFile) : []), ...(env.TUNELOOP_HTTP_TOKEN ? [env.TUNELOOP_HTTP_TOKEN.trim()] : [])];
  for (const token of tokens) {
    if (token.length < MIN_TOKEN_LENGTH) throw new UserError(`A bearer token is ${token.length} characters long; tokens need at least ${MIN_TOKEN_LENGTH}.`, TOKEN_REMEDY);
    if (!/^[\x21-\x7e]+$/.test(token)) throw new UserError('A bearer token contains spaces or non-ASCII characters.', TOKEN_REMEDY);
  }
  if (tokens.length === 0 && !isLoopback(host)) {
    throw new UserError(
      `Refusing to serve on ${host} without a token: anyone who can reach it could run tuneloop's tools on this host.`,
      `Give --token-file PATH or TUNELOOP_HTTP_TOKEN (${TOKEN_REMEDY}), or bind to 127.0.0.1 and reach it through an ssh tunnel.`,
    );
  }
  const allowedOrigins = (flags.allowedOrigins ?? env.TUNELOOP_HTTP_ORIGINS ?? '').split(',').map((o) => o.trim().replace(/\/+$/, '')).filter(Boolean);
  return { host, port, tokens, allowedOrigins };
}

/** One token per line; blank lines and # comments ignored. The file must be private to its owner. */
function readTokenFile(path: string): string[] {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(`Cannot read the token file ${path}: ${(error as Error).message}.`, `Write one token per line to it, then chmod 600 ${path}.`);
  }
  if (mode & 0o077) throw new UserError(`The token file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}).`, `chmod 600 ${path}`);
  const tokens = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (tokens.length === 0) throw new UserError(`The token file ${path} has no token.`, `Write one token per line. ${TOKEN_REMEDY}`);
  return tokens;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1';
}

/**
 * The `Authorization` header against the tokens: digests of equal length compared with
 * timingSafeEqual, every token tried, so the time taken says nothing about how close a guess was.
 */
export function checkBearer(header: string | undefined, tokens: string[]): 'ok' | 'missing' | 'invalid' {
  if (tokens.length === 0) return 'ok';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return 'missing';
  const presented = digest(m[1]);
  let match = false;
  for (const token of tokens) match = timingSafeEqual(presented, digest(token)) || match;
  return match ? 'ok' : 'invalid';
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Hostname of a Host header or origin ("localhost:8731" -> "localhost", "[::1]:80" -> "[::1]"). */
function hostnameOf(hostPort: string): string {
  return hostPort.startsWith('[') ? hostPort.slice(0, hostPort.indexOf(']') + 1) : hostPort.split(':')[0];
}

/** A loopback server answers only to loopback names: a rebinding page's Host is its own name. */
export function hostAllowed(hostHeader: string | undefined, bind: string): boolean {
  if (!isLoopback(bind)) return true;
  return hostHeader !== undefined && LOOPBACK_NAMES.has(hostnameOf(hostHeader.toLowerCase()));
}

/** No Origin: not a browser, allowed. Otherwise a loopback origin or one the operator listed. */
export function originAllowed(origin: string | undefined, allowed: string[]): boolean {
  if (origin === undefined) return true;
  const normalized = origin.toLowerCase().replace(/\/+$/, '');
  if (allowed.some((a) => a.toLowerCase() === normalized)) return true;
  const m = /^https?:\/\/(.+)$/.exec(normalized);
  return m !== null && LOOPBACK_NAMES.has(hostnameOf(m[1]));
}
