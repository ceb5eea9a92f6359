// The host inventory probe: runs systeminformation's calls in a process of its own and prints one
// JSON object on stdout. tuneloop starts it through src/core/exec.ts (src/observe/inventory.ts), so
// every process systeminformation shells out to (lscpu, dmidecode, lsblk, lspci, ip, nvidia-smi ...)
// lives inside that child's containment: killed with it on the exec timeout, on cancel and shutdown,
// and by the reaper when the server is SIGKILLed. Running it here, not in the server, also keeps
// systeminformation's synchronous execSync calls off the server's event loop.
//
// Bounds, innermost first: every command systeminformation starts gets `timeout` (SIGKILL) unless it
// set one; every call has a deadline after which its answer is dropped; the whole probe has the exec
// timeout. Every command is counted per call, so the answer says what was started.
//
// Input (argv[2], JSON): {calls: string[], commandTimeoutMs: number, callDeadlineMs: number}.
// Output: {version, calls: {NAME: {ms, commands: string[], value} | {ms, commands, error}}}.
import childProcess from 'node:child_process';
import { createRequire } from 'node:module';

const { calls, commandTimeoutMs, callDeadlineMs } = JSON.parse(process.argv[2] ?? '{}');
if (!Array.isArray(calls) || !(commandTimeoutMs > 0) || !(callDeadlineMs > 0)) {
  process.stderr.write('usage: probe.mjs \'{"calls": ["cpu"], "commandTimeoutMs": 3000, "callDeadlineMs": 5000}\'\n');
  process.exit(2);
}

// Count and bound every command. systeminformation binds child_process functions when it is
// required, so the wrappers go in first. exec() calls execFile() inside Node: count the outer one.
let currentCall = '';
const commandsByCall = new Map();
let depth = 0;
const OPTIONS_AT = { exec: 1, execSync: 1, execFile: 2, execFileSync: 2, spawn: 2, spawnSync: 2 };
for (const [name, at] of Object.entries(OPTIONS_AT)) {
  const original = childProcess[name];
  childProcess[name] = function bounded(...args) {
    if (depth === 0) {
      const list = commandsByCall.get(currentCall) ?? [];
      list.push(String(args[0]).replace(/\s+/g, ' ').slice(0, 120));
      commandsByCall.set(currentCall, list);
      // Options sit at `at`, or at `at - 1` when an argument list is left out; a callback is not options.
      let index = at;
      if (name !== 'exec' && name !== 'execSync' && !Array.isArray(args[1])) index = at - 1;
      const options = args[index];
      if (typeof options === 'function' || options === undefined) args.splice(index, 0, {});
      const opts = args[index] ?? {};
      args[index] = { ...opts, timeout: opts.timeout || commandTimeoutMs, killSignal: 'SIGKILL' };
    }
    depth++;
    try {
      return original.apply(this, args);
    } finally {
      depth--;
    }
  };
}

const require = createRequire(import.meta.url);
const si = require('systeminformation');

// One call at a time: `currentCall` attributes each command to its call, and the calls then do not
// compete with each other (or with the measured system) for the CPU.
const out = { version: si.version(), calls: {} };
for (const name of calls) {
  currentCall = name;
  const started = performance.now();
  let timer;
  try {
    if (typeof si[name] !== 'function') throw new Error(`systeminformation has no ${name}()`);
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${callDeadlineMs} ms`)), callDeadlineMs);
    });
    const value = await Promise.race([si[name](), deadline]);
    out.calls[name] = { ms: Math.round(performance.now() - started), commands: commandsByCall.get(name) ?? [], value };
  } catch (error) {
    out.calls[name] = { ms: Math.round(performance.now() - started), commands: commandsByCall.get(name) ?? [], error: String(error?.message ?? error) };
  } finally {
    clearTimeout(timer);
  }
}
process.stdout.write(JSON.stringify(out));
// A call past its deadline may have left commands running: exit now; exec.ts's containment ends them.
process.exit(0);
