/**
 * Getting Prometheus text: over plain HTTP from loopback or an allowed host (Node's fetch, with a
 * timeout, no redirects and a body cap), from a file, or as given.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { UserError } from '../../core/errors.js';

export function checkMetricsUrl(raw: string, allowedHosts: string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UserError(`url: "${raw}" is not a URL.`, 'Pass e.g. http://127.0.0.1:8000/metrics.');
  }
  if (url.protocol !== 'http:') throw new UserError(`url: only http:// is supported, got ${url.protocol}//.`, 'Scrape the plain-HTTP metrics port (vLLM: http://HOST:8000/metrics), or save the text and pass it as file.');
  const host = url.hostname.toLowerCase();
  const loopback = host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '[::1]';
  const allowed = allowedHosts.some((h) => h.toLowerCase() === host || h.toLowerCase() === url.host.toLowerCase());
  if (!loopback && !allowed) {
    throw new UserError(
      `url: host "${url.hostname}" is not allowed; scrape_metrics reaches loopback only unless told otherwise.`,
      `Start the server with TUNELOOP_METRICS_HOSTS=${url.hostname} (comma-separated list of hosts) to allow it.`,
    );
  }
  return url;
}

export async function fetchMetrics(url: URL, options: { timeoutMs: number; maxBytes: number; signal?: AbortSignal }): Promise<string> {
  const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])];
  const signal = AbortSignal.any(signals);
  const get = () => fetch(url, { redirect: 'manual', signal, headers: { Accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' } });
  let response: Response;
  try {
    response = await get().catch((error: unknown) => {
      // fetch reuses pooled keep-alive connections, and the server may close one just as it is
      // reused: the GET never reached it, so one retry on a fresh connection is safe.
      if (!isStaleConnection(error) || signal.aborted) throw error;
      return get();
    });
  } catch (error) {
    throw fetchError(url, error, options.timeoutMs);
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    throw new UserError(`${url.href} redirects to ${response.headers.get('location') ?? '?'}; redirects are not followed (they could leave the allowed hosts).`, 'Scrape the final URL directly.');
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new UserError(`${url.href} answered HTTP ${response.status} ${response.statusText}.`, 'Check the path: vLLM serves /metrics on its API port; node_exporter on :9100/metrics.');
  }
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > options.maxBytes) {
        await reader.cancel();
        throw new UserError(`${url.href} sent more than max_bytes (${options.maxBytes}) of metrics.`, 'Raise max_bytes, or scrape a narrower endpoint.');
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw fetchError(url, error, options.timeoutMs);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isStaleConnection(error: unknown): boolean {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
}

function fetchError(url: URL, error: unknown, timeoutMs: number): UserError {
  const e = error as Error & { cause?: { code?: string } };
  if (e.name === 'TimeoutError') return new UserError(`${url.href} did not answer within ${timeoutMs / 1000}s.`, 'Check that the server is up and not overloaded; raise timeout_s if it is slow.');
  if (e.name === 'AbortError') return new UserError('scrape_metrics was cancelled.');
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return new UserError(`Cannot reach ${url.href}: connection refused (nothing listens on ${url.host}).`, 'Check that the server is running and the port is right (vLLM: --port, default 8000).');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UserError(`Cannot resolve host "${url.hostname}".`, 'Check the host name.');
  return new UserError(`Cannot reach ${url.href}: ${code ?? e.message}.`, 'Check that the server is running and reachable from this host.', { cause: error });
}

export async function readMetricsFile(path: string, maxBytes: number): Promise<string> {
  if (!isAbsolute(path)) throw new UserError(`file: "${path}" is not an absolute path.`, 'Pass an absolute path.');
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new UserError(`file: "${path}" is not a regular file.`);
    if (st.size > maxBytes) throw new UserError(`file: "${path}" is ${st.size} bytes, more than max_bytes (${maxBytes}).`, 'Raise max_bytes.');
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `file: "${path}" does not exist.` : `file: cannot read "${path}": ${(error as Error).message}`, 'Check the path and that the server user can read it.');
  }
}
