#!/usr/bin/env node
/**
 * tuneloop's command line (thin: parse flags, call into src/).
 *   tuneloop [serve]           the stdio MCP server
 *   tuneloop call TOOL [JSON]  call one tool through a real stdio server, print the result
 *   tuneloop tools             list the tools
 *   tuneloop doctor            what this host can do, and what is missing
 *   tuneloop vm build|run      the sched_ext guest kernel (src/cli/vm.ts parses its own options)
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadConfig, type ConfigFlags } from './core/config.js';
import { formatErrorText, UserError } from './core/errors.js';
import { SERVER_VERSION } from './version.js';

const USAGE = `tuneloop ${SERVER_VERSION}: an MCP server for tuning real systems

Usage:
  tuneloop [serve] [--toolsets a,b] [--read-only] [--home DIR] [--keep-jobs]
  tuneloop serve --http [--host 127.0.0.1] [--port 8731] [--token-file PATH] [--allowed-origins URL,...]
  tuneloop call TOOL ['{"json": "arguments"}'] [--no-follow] [--timeout S]
  tuneloop tools [--json] [--toolsets a,b] [--read-only]
  tuneloop doctor [--json]
  tuneloop vm build [--json]            build the sched_ext guest kernel (see tuneloop vm --help)
  tuneloop vm run [OPTIONS] [--] CMD... run CMD as root in a sched_ext guest

Environment: TUNELOOP_HOME, TUNELOOP_TOOLSETS, TUNELOOP_READ_ONLY, TUNELOOP_PYTHON,
TUNELOOP_SYSFS_ROOT, TUNELOOP_PROC_ROOT, TUNELOOP_CASES, TUNELOOP_NCCL_TESTS_DIR,
TUNELOOP_METRICS_HOSTS, TUNELOOP_SCHED_DIRS, TUNELOOP_SCHED_LIBEXEC, TUNELOOP_VM_CACHE,
TUNELOOP_VM_KERNEL_SOURCE, TUNELOOP_VM_ACCEL, TUNELOOP_HTTP_TOKEN, TUNELOOP_HTTP_ORIGINS. Toolsets: observe, sched, nccl, triton, history (jobs is always on).`;

const OPTIONS = {
  toolsets: { type: 'string' },
  'read-only': { type: 'boolean' },
  home: { type: 'string' },
  json: { type: 'boolean' },
  'no-follow': { type: 'boolean' },
  'keep-jobs': { type: 'boolean' },
  timeout: { type: 'string' },
  http: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  'token-file': { type: 'string' },
  'allowed-origins': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    throw new UserError((error as Error).message, 'See tuneloop --help.');
  }
}

async function main(argv: string[]): Promise<number | 'serving'> {
  // `vm run` passes the rest of its line to the guest command, so vm parses its own options.
  if (argv[0] === 'vm') {
    const { vm } = await import('./cli/vm.js');
    return vm(argv.slice(1));
  }
  const { values, positionals } = parseCommandLine(argv);
  if (values.help) return print(USAGE);
  if (values.version) return print(SERVER_VERSION);
  const flags: ConfigFlags = { toolsets: values.toolsets, readOnly: values['read-only'], home: values.home };
  const [command = 'serve', ...rest] = positionals;
  switch (command) {
    case 'serve': {
      if (values.http) {
        if (values['keep-jobs']) throw new UserError('--keep-jobs is for a stdio server (it outlives its stdin); an HTTP server keeps its jobs until it stops.', 'tuneloop serve --http ... (without --keep-jobs)');
        const [{ serveHttp }, { loadHttpOptions }] = await Promise.all([import('./cli/serve-http.js'), import('./http/access.js')]);
        const http = { host: values.host, port: values.port, tokenFile: values['token-file'], allowedOrigins: values['allowed-origins'] };
        await serveHttp(loadConfig(flags), loadHttpOptions(http));
        return 'serving';
      }
      if (values.host || values.port || values['token-file'] || values['allowed-origins']) {
        throw new UserError('--host, --port, --token-file and --allowed-origins need --http.', 'tuneloop serve --http --port 8731 --token-file PATH');
      }
      const { serve } = await import('./cli/serve.js');
      await serve(loadConfig(flags), { keepJobs: Boolean(values['keep-jobs']) });
      return 'serving';
    }
    case 'call': {
      const { call } = await import('./cli/call.js');
      if (!rest[0]) throw new UserError('call needs a tool name.', 'Run `tuneloop tools` to list them, e.g. `tuneloop call system_snapshot`.');
      const timeoutS = values.timeout === undefined ? undefined : Number(values.timeout);
      if (timeoutS !== undefined && !(timeoutS > 0)) throw new UserError(`--timeout must be a positive number of seconds, got "${values.timeout}".`);
      return call({ tool: rest[0], json: rest[1], follow: !values['no-follow'], timeoutS, flags, cliPath: fileURLToPath(import.meta.url) });
    }
    case 'tools': {
      const { listTools } = await import('./cli/tools.js');
      return listTools(loadConfig(flags), Boolean(values.json));
    }
    case 'doctor': {
      const { doctor } = await import('./cli/doctor.js');
      return doctor(loadConfig(flags), Boolean(values.json));
    }
    default:
      throw new UserError(`Unknown command "${command}".`, 'Commands: serve, call, tools, doctor, vm (see tuneloop --help).');
  }
}

function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

// `tuneloop tools --json | head`: a reader that leaves early is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 'serving') process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`tuneloop: ${error instanceof UserError ? formatErrorText(error) : ((error as Error)?.stack ?? String(error))}\n`);
    process.exitCode = 2;
  },
);
