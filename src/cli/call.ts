/**
 * `tuneloop call TOOL [JSON]`: a scripted MCP client. It starts `tuneloop serve` as a child over
 * real stdio (the same path Claude uses), calls one tool, and prints the structured result as JSON.
 * A job-starting tool is followed with job_status until the job ends (the job dies with the
 * server, so leaving early would cancel it), unless --no-follow.
 * Exit codes: 0 success; 1 the tool returned an error or the job did not succeed; 2 bad usage.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ConfigFlags } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { SERVER_VERSION } from '../version.js';

export interface CallOptions {
  tool: string;
  json?: string;
  follow: boolean;
  timeoutS?: number;
  flags: ConfigFlags;
  cliPath: string;
}

export async function call(options: CallOptions): Promise<number> {
  const args = parseArguments(options.json);
  const serveArgs = [options.cliPath, 'serve'];
  if (options.flags.toolsets) serveArgs.push('--toolsets', options.flags.toolsets);
  if (options.flags.readOnly) serveArgs.push('--read-only');
  if (options.flags.home) serveArgs.push('--home', options.flags.home);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: serveArgs,
    env: process.env as Record<string, string>,
    stderr: 'inherit',
  });
  const client = new Client({ name: 'tuneloop-call', version: SERVER_VERSION });
  const deadline = options.timeoutS ? Date.now() + options.timeoutS * 1000 : Infinity;
  const stopOnSignal = () => void client.close().finally(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    await client.connect(transport);
    let result = (await client.callTool({ name: options.tool, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
    while (options.follow && !result.isError && isRunningJob(result.structuredContent) && Date.now() < deadline) {
      const waitS = Math.max(1, Math.min(50, Math.floor((deadline - Date.now()) / 1000)));
      process.stderr.write(`tuneloop: ${progressLine(result.structuredContent)}\n`);
      result = (await client.callTool(
        { name: 'job_status', arguments: { job_id: result.structuredContent.job_id, wait_s: waitS } },
        undefined,
        { timeout: (waitS + 30) * 1000 },
      )) as CallToolResult;
    }
    return report(result);
  } finally {
    process.removeListener('SIGINT', stopOnSignal);
    process.removeListener('SIGTERM', stopOnSignal);
    await client.close();
  }
}

function parseArguments(json: string | undefined): Record<string, unknown> {
  if (json === undefined || json.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new UserError(`The arguments are not valid JSON: ${(error as Error).message}`, `Quote them for the shell, e.g. tuneloop call get_history '{"limit": 5}'.`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UserError('The arguments must be a JSON object.', `e.g. '{"limit": 5}'.`);
  return value as Record<string, unknown>;
}

function isRunningJob(s: unknown): s is { job_id: string; status: string; progress?: { done?: number; total?: number; message?: string } } {
  return !!s && typeof s === 'object' && typeof (s as { job_id?: unknown }).job_id === 'string' && (s as { status?: unknown }).status === 'running';
}

function progressLine(s: { job_id: string; progress?: { done?: number; total?: number; message?: string } }): string {
  const p = s.progress ?? {};
  const count = p.total ? ` ${p.done ?? 0}/${p.total}` : p.done !== undefined ? ` ${p.done}` : '';
  return `job ${s.job_id} running${count}${p.message ? `: ${p.message}` : ''}`;
}

function report(result: CallToolResult): number {
  const text = result.content
    .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
  if (result.isError) {
    process.stderr.write(`${text}\n`);
    return 1;
  }
  process.stdout.write(`${JSON.stringify(result.structuredContent ?? {}, null, 2)}\n`);
  const status = (result.structuredContent as { status?: unknown; job_id?: unknown } | undefined)?.job_id ? (result.structuredContent as { status: string }).status : null;
  if (status && status !== 'succeeded') {
    process.stderr.write(`${text}\n`);
    return status === 'running' ? 3 : 1;
  }
  return 0;
}
