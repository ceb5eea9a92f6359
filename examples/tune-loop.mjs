#!/usr/bin/env node
/**
 * The tuning loop without an LLM: a scripted MCP client that tunes a real CPU workload on this
 * machine through tuneloop's public tools only. It is the reference for scripting tuneloop.
 *
 * The workload: compress a corpus before shipping it over a link. The knobs: which compressor
 * (gzip, xz, zstd: whichever are installed), its level and its thread count. The objective,
 * "ship_s" (lower is better), is measured compression time plus the time the compressed bytes
 * take on a link of --link-mbs MB/s: faster levels save CPU, stronger ones save bytes, and the best
 * trade-off depends on this machine's CPUs.
 *
 * The loop: system_snapshot -> workload create -> [suggest_config -> benchmark_workload ->
 * record_run] x budget -> compare_runs (default vs best) -> rules derive. It prints the trajectory
 * and a final verdict that only says "better" when the statistics do.
 *
 *   npm run build && node examples/tune-loop.mjs [--budget 10] [--repeats 5] [--size-mb 16]
 *                                              [--link-mbs 100] [--seed 0] [--home DIR] [--json]
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const { values: opts } = parseArgs({
  options: {
    budget: { type: 'string', default: '10' },
    repeats: { type: 'string', default: '5' },
    'size-mb': { type: 'string', default: '16' },
    'link-mbs': { type: 'string', default: '100' },
    seed: { type: 'string', default: '0' },
    home: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const budget = positiveInt(opts.budget, 'budget');
const repeats = positiveInt(opts.repeats, 'repeats');
const sizeMb = positiveInt(opts['size-mb'], 'size-mb');
const linkBytesPerS = positiveInt(opts['link-mbs'], 'link-mbs') * 1e6;
const seed = Number.parseInt(opts.seed, 10) || 0;

const say = (line = '') => process.stdout.write(`${line}\n`);
/** The usual default: gzip -6, single-threaded. Every gain is measured against it. */
const DEFAULT = { codec: 'gzip', level: 6, threads: 1 };
/** Run ids recorded per config (for compare_runs). */
const runIds = new Map();
const work = mkdtempSync(join(tmpdir(), 'tuneloop-demo-'));
const home = opts.home ? resolve(opts.home) : join(work, 'home');

const transport = new StdioClientTransport({
  command: process.execPath,
  args: [resolve(import.meta.dirname, '../dist/cli.js'), 'serve', '--toolsets', 'observe,sched,history'],
  env: { ...process.env, TUNELOOP_HOME: home },
  stderr: 'inherit',
});
const client = new Client({ name: 'tune-loop-example', version: '1' });

try {
  await client.connect(transport);
  await main();
} finally {
  await client.close().catch(() => {});
  rmSync(work, { recursive: true, force: true });
}

async function main() {
  // ---- observe
  const snapshot = await call('system_snapshot', {});
  const cpus = snapshot.cpu.threads;
  say(`host: ${snapshot.kernel.hostname}, kernel ${snapshot.kernel.release}, ${cpus} CPU thread(s), ${snapshot.cpu.cpu_model}, load ${snapshot.load.load1}`);

  const corpus = join(work, 'corpus.txt');
  writeFileSync(corpus, makeCorpus(sizeMb * 1024 * 1024));
  const codecs = ['gzip', 'xz', 'zstd'].filter(onPath);
  if (!codecs.includes('gzip')) throw new Error('gzip is not installed; the example needs at least gzip.');
  say(`corpus: ${sizeMb} MiB of text; compressors: ${codecs.join(', ')}; link ${linkBytesPerS / 1e6} MB/s; budget ${budget} configs x ${repeats} runs`);

  const name = `compress-${Date.now().toString(36)}`;
  await call('workload', {
    action: 'create',
    name,
    description: `Compress a ${sizeMb} MiB text corpus before shipping it over a ${linkBytesPerS / 1e6} MB/s link; objective ship_s = compress time + bytes / link rate.`,
    classification: 'batch',
    tags: ['compress', 'example'],
  });

  // ---- plan: the space, with gzip -6 single-threaded (the usual default) as the baseline
  const params = [
    { name: 'codec', type: 'categorical', choices: codecs, default: DEFAULT.codec },
    { name: 'level', type: 'int', min: 1, max: 9, default: DEFAULT.level },
    { name: 'threads', type: 'int', min: 1, max: Math.max(1, Math.min(4, cpus)), default: DEFAULT.threads },
  ];

  // ---- execute + learn, one suggested config at a time
  say('\ntrial  kind           config                         ship_s (median)  best so far');
  const trajectory = [];
  for (let trial = 1; trial <= budget; trial++) {
    const s = await call('suggest_config', { params, workload: name, count: 1, seed });
    const candidate = s.candidates[0];
    const config = candidate.config;
    const values = await measure(config, corpus, name);
    const median = medianOf(values);
    const after = await call('suggest_config', { params, workload: name, count: 1, seed });
    trajectory.push({ trial, kind: candidate.kind, config, median, best: after.best });
    say(`${String(trial).padStart(5)}  ${candidate.kind.padEnd(13)}  ${describe(config).padEnd(30)} ${median.toFixed(3).padStart(15)}  ${describe(after.best.config)} (${after.best.median.toFixed(3)}, n=${after.best.n})`);
  }

  // ---- decide: is the best really better than the default?
  const final = await call('suggest_config', { params, workload: name, count: 1, seed });
  const best = final.best;
  const defaultRuns = runIds.get(describe(DEFAULT)) ?? [];
  let verdict = 'no significant difference';
  let explanation = 'The best config is the default itself.';
  if (describe(best.config) !== describe(DEFAULT)) {
    const cmp = await call('compare_runs', { workload: name, a_run_ids: defaultRuns, b_run_ids: best.run_ids });
    verdict = cmp.verdict;
    explanation = cmp.explanation;
  }
  const rules = await call('rules', { action: 'derive', workload: name, save: true });

  say(`\nbest: ${describe(best.config)}  ship_s median ${best.median.toFixed(3)} over ${best.n} runs (runs ${best.run_ids.slice(0, 8).join(', ')}${best.run_ids.length > 8 ? ', ...' : ''})`);
  say(`coverage: ${final.coverage.distinct_configs} of ${final.coverage.space_size} configs measured`);
  say(`verdict vs default (${describe(DEFAULT)}): ${verdict.toUpperCase()}: ${explanation}`);
  say(`rules derived: ${rules.candidates.length}${rules.candidates.map((c) => `\n  rule ${c.saved_rule_id}: ${JSON.stringify(c.patch)} gain ${(c.gain * 100).toFixed(1)}% confidence ${c.confidence}`).join('')}`);
  if (opts.json) say(JSON.stringify({ trajectory, best, verdict, rules: rules.candidates.map((c) => ({ id: c.saved_rule_id, patch: c.patch, gain: c.gain })) }));
}

/** Measure one config with benchmark_workload, then record each run with its config and objective. */
async function measure(config, corpus, workload) {
  const command = compressCommand(config, corpus);
  let result = await call('benchmark_workload', { command: ['sh', '-c', command], repeats, warmup: 1, metric_regex: '(\\d+)\\s*$', metric_name: 'bytes', primary_metric: 'wall_s', direction: 'lower', wait_s: 50 });
  while (result.status === 'running') result = await call('job_status', { job_id: result.job_id, wait_s: 50 });
  if (result.status !== 'succeeded') throw new Error(`benchmark_workload ${result.status}: ${result.error ?? ''}`);
  const values = [];
  for (const run of result.result.runs) {
    if (run.status !== 'ok' || run.metrics.bytes === undefined) continue;
    const shipS = run.metrics.wall_s + run.metrics.bytes / linkBytesPerS;
    values.push(shipS);
    const recorded = await call('record_run', {
      domain: 'workload',
      workload,
      config,
      metrics: { ship_s: shipS, wall_s: run.metrics.wall_s, bytes: run.metrics.bytes },
      primary_metric: 'ship_s',
      direction: 'lower',
      notes: `measured by benchmark_workload job ${result.job_id} (run ${run.run_id}): ${command}`,
    });
    runIds.set(describe(config), [...(runIds.get(describe(config)) ?? []), recorded.run.id]);
  }
  if (values.length === 0) throw new Error(`no successful run of: ${command}`);
  return values;
}

function compressCommand({ codec, level, threads }, corpus) {
  const file = `'${corpus.replace(/'/g, `'\\''`)}'`;
  if (codec === 'gzip') return `gzip -${level} -c ${file} | wc -c`; // gzip has no threads: the knob does nothing
  if (codec === 'xz') return `xz -${level} -T${threads} -c ${file} | wc -c`;
  return `zstd -q -${level} -T${threads} -c ${file} | wc -c`;
}

async function call(name, args) {
  const r = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
  if (r.isError) throw new Error(`${name} failed: ${r.content.map((c) => c.text).join('\n')}`);
  return r.structuredContent;
}

function describe(config) {
  return config ? `${config.codec} -${config.level}${config.codec === 'gzip' ? '' : ` -T${config.threads}`}` : '-';
}

function medianOf(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function onPath(binary) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, binary)));
}

/** Deterministic text: words from a small vocabulary with a skewed distribution, like logs or source. */
function makeCorpus(bytes) {
  const words = 'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no will can more out up into do any your what has man could other than then some these two may first its time new only very'.split(' ');
  let x = 0x2545f491;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const parts = [];
  let size = 0;
  let line = 0;
  while (size < bytes) {
    const n = 6 + Math.floor(next() * 10);
    const text = `${++line} ${Array.from({ length: n }, () => words[Math.floor(next() ** 2 * words.length)]).join(' ')} ${Math.floor(next() * 1e6)}\n`;
    parts.push(text);
    size += text.length;
  }
  return parts.join('');
}

function positiveInt(value, name) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a whole number >= 1 (got ${value})\n`);
    process.exit(2);
  }
  return n;
}
