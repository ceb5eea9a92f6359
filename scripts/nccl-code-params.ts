/**
 * Refreshes knowledge/nccl/code-params.json: which environment variables each NCCL release reads,
 * and the default its NCCL_PARAM() definition gives, scanned from a git clone of NVIDIA/nccl
 * (every v2.x.y-n tag; the last tag of each version). Reads source text only, builds nothing.
 *
 *   npx tsx scripts/nccl-code-params.ts /path/to/nccl-clone
 *
 * A variable counts as read by a release when its src/ has NCCL_PARAM(Name, "X", default)
 * (env NCCL_X), DEFINE_NCCL_PARAM(name, type, NCCL_X, ...) (2.30+), or one of NCCL's getters
 * (ncclGetEnv, getenv, getEnvFunc, getNthreads, ncclGetLevel) called with a "NCCL_..." literal.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const repo = process.argv[2];
if (!repo) {
  process.stderr.write('usage: tsx scripts/nccl-code-params.ts /path/to/nccl-clone\n');
  process.exit(2);
}
const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });

const PARAM = /\bNCCL_PARAM\(\s*(\w+)\s*,\s*"([A-Z0-9_]+)"\s*,\s*(.*)$/;
const DEFINE = /\bDEFINE_NCCL_PARAM\(\s*\w+\s*,\s*[^,]+?\s*,\s*(NCCL_[A-Z0-9_]+)\s*,?\s*([^,]*)/;
const GETTER = /\b(ncclGetEnv|getenv|getNthreads|ncclGetLevel|getEnvFunc)\(([^()"]*"NCCL_[A-Z0-9_]+"[^()]*)/;
const NAME = /"(NCCL_[A-Z0-9_]+)"/g;

interface Found {
  file: string;
  kind: string;
  default?: string;
}

function versionOf(tag: string): string {
  return tag.slice(1).split('-')[0];
}

function compare(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

function scan(tag: string): Map<string, Found> {
  const found = new Map<string, Found>();
  let text = '';
  try {
    text = git('grep', '-nE', 'NCCL_PARAM\\(|"NCCL_[A-Z0-9_]+"', tag, '--', 'src');
  } catch {
    return found; // no match at all
  }
  for (const line of text.split('\n')) {
    const m = /^[^:]+:([^:]+):\d+:(.*)$/.exec(line);
    if (!m || !/\.(cc|h|cu|c|cpp|hpp)$/.test(m[1])) continue;
    const [, file, code] = m;
    const param = PARAM.exec(code);
    if (param && !code.trim().startsWith('#define')) {
      const name = `NCCL_${param[2]}`;
      if (!found.has(name)) found.set(name, { file, kind: 'NCCL_PARAM', default: param[3].replace(/\)\s*;?\s*(\/[/*].*)?$/, '').trim() });
      continue;
    }
    const define = DEFINE.exec(code);
    if (define) {
      if (!found.has(define[1])) found.set(define[1], { file, kind: 'DEFINE_NCCL_PARAM', ...(define[2].trim() ? { default: define[2].trim() } : {}) });
      continue;
    }
    const getter = GETTER.exec(code);
    if (getter) for (const n of getter[2].matchAll(NAME)) if (!found.has(n[1])) found.set(n[1], { file, kind: getter[1] });
  }
  return found;
}

const tags = git('tag')
  .split('\n')
  .filter((t) => /^v2\.\d+\.\d+-\d+$/.test(t))
  .sort((a, b) => compare(versionOf(a), versionOf(b)) || Number(a.split('-')[1]) - Number(b.split('-')[1]));
const lastTagOfVersion = new Map<string, string>();
for (const t of tags) lastTagOfVersion.set(versionOf(t), t);
const versions = [...lastTagOfVersion.keys()];

interface VarRecord {
  /** Inclusive [first, last] ranges of scanned versions that read the variable. */
  read: [string, string][];
  file: string;
  kind: string;
  /** [first version, default as written in NCCL_PARAM] whenever it changed. */
  defaults?: [string, string][];
}
const vars: Record<string, VarRecord> = {};
const scanned: { version: string; tag: string; commit: string }[] = [];
let previous = new Set<string>();
for (const version of versions) {
  const tag = lastTagOfVersion.get(version)!;
  const found = scan(tag);
  scanned.push({ version, tag, commit: git('rev-list', '-n', '1', tag).trim() });
  for (const [name, f] of found) {
    const record = (vars[name] ??= { read: [], file: f.file, kind: f.kind });
    if (previous.has(name)) record.read.at(-1)![1] = version;
    else record.read.push([version, version]);
    record.file = f.file;
    record.kind = f.kind;
    if (f.default !== undefined) {
      record.defaults ??= [];
      if (record.defaults.at(-1)?.[1] !== f.default) record.defaults.push([version, f.default]);
    }
  }
  previous = new Set(found.keys());
  process.stderr.write(`${version} ${found.size}\n`);
}

const out = {
  source: {
    repo: 'NVIDIA/nccl',
    how: 'scripts/nccl-code-params.ts: NCCL_PARAM / DEFINE_NCCL_PARAM definitions and getenv-style reads of "NCCL_*" literals in src/ of the last tag of each version.',
    scanned,
  },
  vars: Object.fromEntries(Object.entries(vars).sort(([a], [b]) => a.localeCompare(b))),
};
const target = resolve(import.meta.dirname, '../knowledge/nccl/code-params.json');
writeFileSync(target, `${JSON.stringify(out, null, 1)}\n`);
process.stderr.write(`wrote ${target}: ${Object.keys(vars).length} variables over ${versions.length} versions\n`);
