/**
 * `tuneloop call TOOL [JSON]`: a scripted MCP client. It starts `tuneloop serve --keep-jobs` as a
 * child over real stdio (the same path Claude uses), calls one tool, and prints the structured
 * result as JSON on stdout (also for an error that carries one; the error text goes to stderr).
 *
 * A job-starting tool is followed with job_status until the job ends. When the command stops
 * following a job that still runs (--no-follow, or --timeout passed), the job is NOT canceled: its
 * server keeps running it in the background and exits when it ends; the command says so and how to
 * poll or cancel it from another `tuneloop call`. Ctrl-C (SIGINT/SIGTERM) instead stops the server,
 * which interrupts its jobs.
 *
 * --timeout bounds the whole command: every request gets the time that is left, and a job tool's
 * wait_s is lowered to fit it.
 *
 * Exit codes: 0 success (with --no-follow also a job still running); 1 the tool answered with an
 * error (a failed action, a failed/canceled/interrupted job); 2 bad usage (an unknown or disabled
 * tool, bad JSON); 3 --timeout passed (the job, if any, still runs in the background).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ConfigFlags } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { MAX_WAIT_S } from '../core/jobs.js';
import { SERVER_VERSION } from '../version.js';
import { ServerProcess } from './server-process.js';

export interface CallOptions {
  tool: string;
  json?: string;
  follow: boolean;
  timeoutS?: number;
  flags: ConfigFlags;
  cliPath: string;
}

/** Without --timeout, one request may take this long (a job tool answers within wait_s <= 50 s). */
const REQUEST_LIMIT_MS = 10 * 60_000;

export const EXIT = { ok: 0, toolError: 1, usage: 2, timeout: 3, interrupted: 130 } as const;

export async function call(options: CallOptions): Promise<number> {
  const args = parseArguments(options.json);
  const serveArgs = [process.execPath, options.cliPath, 'serve', '--keep-jobs'];
  if (options.flags.toolsets) serveArgs.push('--toolsets', options.flags.toolsets);
  if (options.flags.readOnly) serveArgs.push('--read-only');
  if (options.flags.home) serveArgs.push('--home', options.flags.home);
  const server = new ServerProcess(serveArgs, process.env);
  const client = new Client({ name: 'tuneloop-call', version: SERVER_VERSION });
  const deadline = options.timeoutS ? Date.now() + options.timeoutS * 1000 : Infinity;
  const left = () => deadline - Date.now();
  const request = () => ({ timeout: Math.max(1, Math.min(REQUEST_LIMIT_MS, left())) });

  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    process.stderr.write('tuneloop: interrupted; stopping the server (it interrupts its jobs).\n');
    void server.stop().finally(() => process.exit(EXIT.interrupted));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let leaveRunning = false;
  try {
    await client.connect(server, request());
    const { tools } = await client.listTools(undefined, request());
    const tool = tools.find((t) => t.name === options.tool);
    if (!tool) throw await unknownTool(options.tool, tools, options.flags);
    if (options.timeoutS && takesWaitS(tool)) args.wait_s = Math.min(Number(args.wait_s ?? MAX_WAIT_S), waitFor(left()));
    let result = (await client.callTool({ name: options.tool, arguments: args }, undefined, request())) as CallToolResult;
    while (options.follow && !result.isError && isRunningJob(result.structuredContent) && left() > 1000) {
      process.stderr.write(`tuneloop: ${progressLine(result.structuredContent)}\n`);
      result = (await client.callTool({ name: 'job_status', arguments: { job_id: result.structuredContent.job_id, wait_s: waitFor(left()) } }, undefined, request())) as CallToolResult;
    }
    const code = report(result);
    if (!result.isError && isRunningJob(result.structuredContent)) {
      leaveRunning = true;
      const id = result.structuredContent.job_id;
      process.stderr.write(
        `tuneloop: ${options.follow ? `--timeout (${options.timeoutS} s) passed; ` : ''}job ${id} keeps running in a background tuneloop server (pid ${server.pid}), which exits when the job ends.\n` +
          `  poll:   tuneloop call job_status '{"job_id": "${id}"}'\n  cancel: tuneloop call job_cancel '{"job_id": "${id}"}'\n`,
      );
      return options.follow ? EXIT.timeout : EXIT.ok;
    }
    return code;
  } catch (error) {
    if (interrupted) return new Promise<number>(() => {}); // onSignal exits
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout && options.timeoutS) {
      // No answer in time: whatever that request was doing is not a job we can name, so nothing is left behind.
      await server.stop();
      process.stderr.write(`tuneloop: --timeout (${options.timeoutS} s) passed before ${options.tool} answered; the call was stopped and nothing is left running.\n`);
      return EXIT.timeout;
    }
    throw error;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (!interrupted) {
      if (leaveRunning) server.detach();
      else await server.close();
    }
  }
}

/** wait_s for a job request with `ms` left: answer a second before the deadline, at most MAX_WAIT_S. */
function waitFor(ms: number): number {
  return Math.max(0, Math.min(MAX_WAIT_S, Math.floor(ms / 1000) - 1));
}

function takesWaitS(tool: Tool): boolean {
  return Boolean(tool.inputSchema.properties && 'wait_s' in tool.inputSchema.properties);
}

/** A usage error (exit 2) naming the closest tools, or the flag that hides the one asked for. */
async function unknownTool(name: string, served: Tool[], flags: ConfigFlags): Promise<UserError> {
  // Loaded only here: the client process has no other use for the listing or the name matcher.
  const [{ toolList }, { nearestNames }] = await Promise.all([import('../tool-index.js'), import('../server-tools.js')]);
  const hidden = toolList().find((t) => t.tool.name === name);
  if (hidden) {
    const writes = hidden.tool.annotations?.readOnlyHint !== true;
    const why = flags.readOnly && writes ? 'it is not read-only and --read-only is set' : `its toolset "${hidden.toolset}" is not enabled`;
    return new UserError(`Tool "${name}" is not served here: ${why}.`, flags.readOnly && writes ? 'Drop --read-only (and TUNELOOP_READ_ONLY).' : `Add ${hidden.toolset} to --toolsets (or TUNELOOP_TOOLSETS).`);
  }
  const near = nearestNames(name, served.map((t) => t.name));
  return new UserError(`Unknown tool "${name.length > 64 ? `${name.slice(0, 64)}…` : name}".${near.length ? ` Did you mean ${near.join(', ')}?` : ''}`, 'Run `tuneloop tools` to list them.');
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

type RunningJob = { job_id: string; status: string; progress?: { done?: number; total?: number; message?: string } };

function isRunningJob(s: unknown): s is RunningJob {
  return !!s && typeof s === 'object' && typeof (s as { job_id?: unknown }).job_id === 'string' && (s as { status?: unknown }).status === 'running';
}

function progressLine(s: RunningJob): string {
  const p = s.progress ?? {};
  const count = p.total ? ` ${p.done ?? 0}/${p.total}` : p.done !== undefined ? ` ${p.done}` : '';
  return `job ${s.job_id} running${count}${p.message ? `: ${p.message}` : ''}`;
}

/** The structured result on stdout (errors included, when they carry one), the text of an error on stderr. */
function report(result: CallToolResult): number {
  if (result.structuredContent) process.stdout.write(`${JSON.stringify(result.structuredContent, null, 2)}\n`);
  if (!result.isError) return EXIT.ok;
  const text = result.content
    .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
  process.stderr.write(`${text}\n`);
  return EXIT.toolError;
}
