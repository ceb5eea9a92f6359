/**
 * Regenerate the flag facts of schedulers/catalog.json from an scx source tree (the clap
 * definitions in scheds/rust/ * /src and rust/scx_utils), keeping the curated text (purpose, use
 * cases, tuning advice, per-flag advice/unit/refused_with) that is already in the catalog.
 *
 *   git -C scx archive v1.1.2 scheds/rust rust/scx_utils Cargo.lock | tar -x -C /tmp/scx
 *   node --import tsx scripts/scx-catalog.ts /tmp/scx --version 1.1.2 --commit <sha>
 *   node --import tsx scripts/scx-catalog.ts /tmp/scx --help-text scx_p2dq   # clap 4's --help rendered from the sources
 *   node --import tsx scripts/scx-catalog.ts /tmp/scx --dump-model           # clap's view of each scheduler, as JSON
 *
 * The fetched sources are not part of this repository.
 */
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderLongHelp } from './scx-catalog/render-help.js';
import { readSchedulers } from './scx-catalog/sources.js';
import { catalogFlags } from './scx-catalog/to-catalog.js';

const CATALOG = resolve(import.meta.dirname, '../schedulers/catalog.json');
/** Per-flag fields a person writes; everything else in a flag is regenerated. */
const CURATED_FLAG_FIELDS = ['unit', 'refused_with', 'advice'] as const;
/** Per-scheduler fields a person writes. */
const CURATED_FIELDS = ['purpose', 'algorithm', 'use_cases', 'characteristics', 'limitations', 'production_status', 'status_note', 'tuning'] as const;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { version: { type: 'string' }, commit: { type: 'string' }, 'help-text': { type: 'string' }, 'dump-model': { type: 'boolean' } },
});
const scxDir = positionals[0];
if (!scxDir || !existsSync(join(scxDir, 'scheds', 'rust'))) {
  process.stderr.write('usage: scx-catalog.ts <scx source dir> --version X.Y.Z --commit SHA | --help-text scx_NAME\n');
  process.exit(2);
}
const schedulers = readSchedulers(scxDir);

/** Defaults scx computes at start-up from the topology, as they come out on a single-LLC host with at most 4 CPUs. */
const SMALL_HOST_DEFAULTS = { 'get_default_greedy_disable()': 'false', 'get_default_llc_runs()': '0', 'get_default_llc_shards()': '0' };

if (values['dump-model']) {
  // clap's view of every scheduler (the renderer's input), for test fixtures.
  process.stdout.write(`${JSON.stringify(schedulers.map((x) => x.command), (_, v) => (v === Infinity ? 'Infinity' : v), 1)}\n`);
  process.exit(0);
}
if (values['help-text']) {
  const s = schedulers.find((x) => x.name === values['help-text']);
  if (!s) throw new Error(`no scheduler ${values['help-text']} in ${scxDir}`);
  process.stdout.write(renderLongHelp(s.command, SMALL_HOST_DEFAULTS));
  process.exit(0);
}
if (!values.version || !values.commit) throw new Error('--version and --commit are required to write the catalog');

type Json = Record<string, unknown>;
const previous = JSON.parse(readFileSync(CATALOG, 'utf8')) as Json & { schedulers: Json[] };
const missing: string[] = [];
const entries = schedulers.map((s) => {
  const old = previous.schedulers.find((p) => p.name === s.name);
  if (!old) {
    missing.push(s.name);
    return null;
  }
  const { flags, positional } = catalogFlags(s.command);
  const oldFlags = (old.flags as Json[] | undefined) ?? [];
  const merged = flags.map((f) => {
    const o = oldFlags.find((x) => x.name === f.name);
    const curated = Object.fromEntries(CURATED_FLAG_FIELDS.filter((k) => o?.[k] !== undefined).map((k) => [k, o![k]]));
    return { ...f, ...curated };
  });
  const oldPositional = old.positional as Json | undefined;
  return {
    name: s.name,
    ops_name: opsName(scxDir, s.name),
    crate_version: s.crateVersion,
    ...Object.fromEntries(CURATED_FIELDS.filter((k) => old[k] !== undefined).map((k) => [k, old[k]])),
    flags: merged,
    ...(positional && { positional: { ...positional, ...(oldPositional?.note !== undefined && { note: oldPositional.note }) } }),
  };
});
if (missing.length) {
  throw new Error(`No curated entry for ${missing.join(', ')}: add {name, purpose, algorithm, use_cases, characteristics, limitations, production_status, status_note} for each to ${CATALOG} first.`);
}
const lock = readFileSync(join(scxDir, 'Cargo.lock'), 'utf8');
const catalog = {
  $schema: './catalog.schema.json',
  scx_version: values.version,
  scx_commit: values.commit,
  clap_version: /name = "clap"\nversion = "([^"]+)"/.exec(lock)?.[1] ?? 'unknown',
  source: `https://github.com/sched-ext/scx v${values.version} (commit ${values.commit}): clap definitions in scheds/rust/*/src and rust/scx_utils, extracted by scripts/scx-catalog.ts`,
  schedulers: entries,
};
writeFileSync(CATALOG, `${JSON.stringify(catalog, null, 2)}\n`);
process.stdout.write(`${CATALOG}: ${entries.length} schedulers, ${entries.reduce((n, e) => n + e!.flags.length, 0)} flags from scx ${values.version}\n`);

/** The ops name the BPF part registers: `.name = "..."` in SCX_OPS_DEFINE (scx_rustland's lives in scx_rustland_core). */
function opsName(dir: string, scheduler: string): string {
  const bpf = [join(dir, 'scheds', 'rust', scheduler, 'src', 'bpf'), join(dir, 'rust', 'scx_rustland_core', 'assets', 'bpf')].find((d) => existsSync(d));
  if (!bpf) throw new Error(`${scheduler}: no BPF sources found`);
  for (const file of readdirSync(bpf).filter((f) => f.endsWith('.bpf.c'))) {
    const text = readFileSync(join(bpf, file), 'utf8');
    const at = text.indexOf('SCX_OPS_DEFINE(');
    const name = at >= 0 ? /\.name\s*=\s*"([^"]+)"/.exec(text.slice(at))?.[1] : undefined;
    if (name) return name;
  }
  throw new Error(`${scheduler}: no SCX_OPS_DEFINE(... .name = "...") in ${bpf}`);
}
