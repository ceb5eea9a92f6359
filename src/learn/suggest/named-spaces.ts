/**
 * Named spaces, built from the other domains' tables: `sched:<scheduler>` from the scheduler
 * catalog's flags, `nccl` from the NCCL parameter table. This file is the only place the suggester
 * reads those tables (an adapter over whatever they export), so a change of their interfaces is a
 * change here alone.
 *
 * Each named space also translates between a point and the config its execution tools record:
 * benchmark_workload records `{scheduler, flags: [...]}`, the NCCL tools record the NCCL variables
 * as strings. Values equal to the default are left out of the config, so the untuned default is
 * `{scheduler, flags: []}` / `{}` as those tools record it.
 *
 * Interfaces used: sched/catalog.ts `schedulerFlagSpace` (the tunable flags) and the catalog's
 * `refused_with`/`conflicts_with` (exclusive flags); nccl/params/space.ts `ncclParameters`,
 * `describeParams` and `ncclAlgorithms` (what a given NCCL release reads and accepts).
 */
import { UserError } from '../../core/errors.js';
import { findCatalogScheduler, loadCatalog, schedulerFlagSpace, type CatalogFlag, type SchedulerFlagSpace } from '../../sched/catalog.js';
import { ncclCollectiveOf } from '../../nccl/params/lists.js';
import { describeParams, ncclAlgorithms, ncclParameters, type AlgorithmInfo, type ParameterInfo } from '../../nccl/params/space.js';
import { coerceValue, validateParams, type ParamSpec, type Point, type Space, type Value } from './space.js';

/** What the caller may change about a named parameter. */
export interface ParamRefinement {
  name: string;
  min?: number;
  max?: number;
  log?: boolean;
  choices?: Value[];
}

export interface NamedSpace extends Space {
  /** Parameters left out, with why (not tunable, too wide without bounds ...). */
  notes: string[];
}

/** A range wider than this, with nothing said about it, is narrowed around the default. */
const WIDE_RANGE = 10_000;
const NONE = 'none';

/** What narrows the `nccl` space: the release (what it reads, its ranges and defaults) and the collective (NCCL_ALGO's choices). */
export interface NamedSpaceOptions {
  ncclVersion?: string;
  /** nccl-tests (all_reduce) or NCCL (AllReduce) name. */
  collective?: string;
}

export function namedSpace(name: string, variables: string[] | undefined, refinements: ParamRefinement[], options: NamedSpaceOptions = {}): NamedSpace {
  if (name.startsWith('sched:')) return schedulerSpace(name.slice('sched:'.length), variables, refinements);
  if (name === 'nccl') return ncclSpace(variables, refinements, options);
  throw new UserError(`Unknown named space "${name}".`, 'Use "sched:<scheduler>" (e.g. "sched:scx_lavd") or "nccl", or pass params for an explicit space.');
}

function refine(params: ParamSpec[], refinements: ParamRefinement[], spaceName: string): ParamSpec[] {
  const byName = new Map(params.map((p) => [p.name, p]));
  for (const r of refinements) {
    const p = byName.get(r.name);
    if (!p) throw new UserError(`"${r.name}" is not a parameter of ${spaceName}.`, `Its parameters: ${params.map((x) => x.name).join(', ') || 'none'}. Add it to variables first if the table has it.`);
    const merged = { ...p, ...Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) } as ParamSpec;
    byName.set(r.name, r.choices ? { ...merged, ...refinedChoices(p, r.choices, spaceName) } : merged);
  }
  const out = [...byName.values()];
  // A default the refinement moved out of range is dropped rather than refused: it is still the baseline, just not in the space.
  return validateParams(
    out.map((p) => (p.default !== undefined && coerceValue({ ...p, choices: p.choices ?? (p.type === 'bool' ? [false, true] : undefined) }, p.default) === undefined ? { ...p, default: undefined } : p)),
    `space ${spaceName}`,
  );
}

/**
 * Choices given for a named parameter: a subset of what it accepts (its choices, or values inside
 * its range). A numeric parameter becomes categorical over them, e.g. NCCL_MIN_CTAS in {8, 16, 32}.
 */
function refinedChoices(p: ParamSpec, choices: Value[], spaceName: string): Pick<ParamSpec, 'type' | 'choices' | 'min' | 'max' | 'log'> {
  if (p.type === 'bool') throw new UserError(`"${p.name}" of ${spaceName} is a switch: it has no choices to narrow.`, 'Leave it out of variables to keep it at its default.');
  const accepted = choices.map((c) => (p.type === 'categorical' ? p.choices!.find((x) => x === c || String(x).toLowerCase() === String(c).toLowerCase()) : coerceValue(p, c)));
  const bad = choices.filter((_, i) => accepted[i] === undefined);
  if (bad.length) {
    const what = p.type === 'categorical' ? `one of ${p.choices!.map(String).join(', ')}` : `${p.type === 'int' ? 'integers' : 'numbers'} in [${p.min}, ${p.max}]`;
    throw new UserError(`"${p.name}" of ${spaceName} does not accept ${bad.map((c) => JSON.stringify(c)).join(', ')}.`, `Choose ${what}.`);
  }
  return { type: 'categorical', choices: [...new Set(accepted as Value[])], min: undefined, max: undefined, log: undefined };
}

// ---- sched:<scheduler> ------------------------------------------------------------------

/**
 * Switch flags that all refuse each other (lavd's power modes) become one categorical parameter:
 * none, or one of them. Found as cliques of mutual refusals in the catalog, greedily in flag order.
 */
function exclusiveGroups(switches: string[], refuses: (a: string, b: string) => boolean): string[][] {
  const mutual = (a: string, b: string) => refuses(a, b) && refuses(b, a);
  const assigned = new Set<string>();
  const groups: string[][] = [];
  for (const f of switches) {
    if (assigned.has(f)) continue;
    const group = [f];
    for (const g of switches) if (g !== f && !assigned.has(g) && group.every((m) => mutual(m, g))) group.push(g);
    if (group.length < 2) continue;
    group.forEach((m) => assigned.add(m));
    groups.push(group);
  }
  return groups;
}

function schedulerSpace(scheduler: string, variables: string[] | undefined, refinements: ParamRefinement[]): NamedSpace {
  const catalog = loadCatalog();
  const entry = findCatalogScheduler(catalog, scheduler);
  const flags = entry && schedulerFlagSpace(entry.name, catalog);
  if (!entry || !flags) throw new UserError(`No scheduler "${scheduler}" in the catalog.`, 'List them with list_schedulers; use the binary name, e.g. "sched:scx_lavd".');
  const spaceName = `sched:${entry.name}`;
  const refusedBy = new Map(entry.flags.map((f) => [f.name, new Set([...(f.refused_with ?? []), ...(f.conflicts_with ?? [])])]));
  const refuses = (a: string, b: string) => refusedBy.get(a)?.has(b) ?? false;
  const notes: string[] = [];
  const groups = exclusiveGroups(flags.filter((f) => f.form === 'switch').map((f) => f.name), refuses);
  const grouped = new Set(groups.flat());
  const candidates: { param: ParamSpec; flag?: SchedulerFlagSpace; group?: string[] }[] = [];
  for (const flag of flags) {
    if (grouped.has(flag.name)) {
      const group = groups.find((g) => g[0] === flag.name);
      if (group) candidates.push({ param: { name: group.join('|'), type: 'categorical', choices: [NONE, ...group], default: NONE, description: `At most one of ${group.join(', ')}.` }, group });
      continue;
    }
    const param = flagParam(flag, notes, refinements.some((r) => r.name === flag.name && r.min !== undefined && r.max !== undefined));
    if (param) candidates.push({ param, flag });
  }
  let chosen = candidates;
  if (variables?.length) {
    const unknown = variables.filter((v) => !candidates.some((c) => c.param.name === v));
    if (unknown.length) throw new UserError(`${spaceName} has no tunable flag ${unknown.join(', ')}.`, `Tunable: ${candidates.map((c) => c.param.name).join(', ')}.${notes.length ? ` Left out: ${notes.join('; ')}` : ''}`);
    chosen = candidates.filter((c) => variables.includes(c.param.name));
  }
  const params = refine(chosen.map((c) => c.param), refinements, spaceName);
  const byName = new Map(chosen.map((c) => [c.param.name, c]));
  const covered = new Set(chosen.flatMap((c) => c.group ?? [c.flag!.name]));
  const setFlags = (point: Point): string[] =>
    params.flatMap((p) => {
      const v = point[p.name];
      const c = byName.get(p.name)!;
      if (c.group) return v !== undefined && v !== NONE ? [String(v)] : [];
      return c.flag!.form === 'switch' ? (v === true ? [p.name] : []) : [];
    });
  return {
    name: spaceName,
    params,
    notes,
    toConfig(point) {
      const args: string[] = [];
      for (const p of params) {
        const v = point[p.name];
        const c = byName.get(p.name)!;
        if (v === undefined || v === p.default) continue;
        if (c.group) {
          if (v !== NONE) args.push(String(v));
        } else if (c.flag!.form === 'switch') {
          if (v) args.push(p.name);
        } else args.push(p.name, String(v));
      }
      return { scheduler: entry.name, flags: args };
    },
    fromConfig(config) {
      if (!config || typeof config !== 'object') return null;
      const c = config as { scheduler?: unknown; flags?: unknown };
      if (c.scheduler !== entry.name) return null;
      const values = parseFlags(Array.isArray(c.flags) ? c.flags.map(String) : [], entry.flags);
      if (!values) return null;
      for (const name of values.keys()) if (!covered.has(name)) return null; // a flag this space does not vary
      const point: Point = {};
      for (const p of params) {
        const spec = byName.get(p.name)!;
        if (spec.group) {
          const set = spec.group.filter((f) => values.has(f));
          if (set.length > 1) return null;
          point[p.name] = set[0] ?? NONE;
          continue;
        }
        const raw = values.get(p.name);
        const v = spec.flag!.form === 'switch' ? values.has(p.name) : raw === undefined ? p.default : coerceValue(p, raw);
        if (raw !== undefined && v === undefined) return null; // a value outside the (refined) space
        point[p.name] = v;
      }
      return point;
    },
    isValid(point) {
      const set = setFlags(point);
      return !set.some((a) => set.some((b) => a !== b && refuses(a, b)));
    },
  };
}

function flagParam(flag: SchedulerFlagSpace, notes: string[], hasBounds: boolean): ParamSpec | null {
  const base = { name: flag.name, description: flag.description };
  if (flag.repeatable) {
    notes.push(`${flag.name} (repeatable: a list, not a value)`);
    return null;
  }
  if (flag.type === 'bool') return { ...base, type: 'bool', default: typeof flag.default === 'boolean' ? flag.default : false };
  if (flag.type === 'choice') return { ...base, type: 'categorical', choices: flag.choices ?? [], default: typeof flag.default === 'string' ? flag.default : undefined };
  if (flag.type !== 'int' && flag.type !== 'float') {
    notes.push(`${flag.name} (${flag.type}: not a tunable value)`);
    return null;
  }
  if (hasBounds) return { ...base, type: flag.type, min: 0, max: 0 };
  const d = typeof flag.default === 'number' ? flag.default : undefined;
  const min = flag.range?.min;
  const max = flag.range?.max;
  if (min === undefined || max === undefined || max - min > WIDE_RANGE) {
    if (d === undefined || d <= 0) {
      notes.push(`${flag.name} (range ${min ?? '-inf'}..${max ?? 'inf'} too wide to search without a positive default: give min and max in params)`);
      return null;
    }
    // Narrowed to default/10 .. default*10 on a log scale: where tuning that flag usually happens.
    const lo = Math.max(min ?? 0, flag.type === 'int' ? Math.max(1, Math.ceil(d / 10)) : d / 10);
    const hi = Math.min(max ?? Infinity, d * 10);
    return { ...base, type: flag.type, min: lo, max: hi, log: true, default: d };
  }
  const log = min > 0 && max / min >= 100;
  return { ...base, type: flag.type, min, max, log, default: d };
}

/** `--name value`, `--name=value`, short aliases, and switches; null when a flag is unknown. */
function parseFlags(args: string[], flags: CatalogFlag[]): Map<string, string | undefined> | null {
  const values = new Map<string, string | undefined>();
  for (let i = 0; i < args.length; i++) {
    const eq = args[i].indexOf('=');
    const [word, inline] = eq > 0 ? [args[i].slice(0, eq), args[i].slice(eq + 1)] : [args[i], undefined];
    const flag = flags.find((f) => f.name === word || f.short === word);
    if (!flag) return null;
    if (!flag.takes_value) values.set(flag.name, undefined);
    else values.set(flag.name, inline ?? args[++i]);
  }
  return values;
}

// ---- nccl -----------------------------------------------------------------------------

/** The variables a plain `nccl` space varies when the caller names none. */
const DEFAULT_NCCL_VARIABLES = ['NCCL_ALGO', 'NCCL_PROTO', 'NCCL_MIN_CTAS', 'NCCL_NTHREADS', 'NCCL_BUFFSIZE'];
const BUFFSIZE_RANGE = [1 << 16, 1 << 26]; // 64 KiB .. 64 MiB, powers of two

/**
 * The variables release `ncclVersion` reads (ncclParameters), with the values that release
 * accepts: NCCL_ALGO offers the algorithms it knows (only those implementing `collective` when one
 * is given), integer ranges and defaults are the release's own. An algorithm and a protocol it
 * does not run with (NVLS with LL) are not a valid point.
 */
function ncclSpace(variables: string[] | undefined, refinements: ParamRefinement[], options: NamedSpaceOptions): NamedSpace {
  const release = options.ncclVersion ?? 'the newest release in the table';
  const read = new Map(ncclParameters(options.ncclVersion, { undocumented: true }).map((p) => [p.name, p]));
  const notes: string[] = [];
  const names = variables?.length ? variables.map((v) => v.toUpperCase()) : defaultNcclVariables(read, notes, release);
  const algorithms = algorithmsFor(options, notes);
  const params: ParamSpec[] = names.map((name) => {
    const info = read.get(name);
    if (!info) throw notReadBy(name, options.ncclVersion, read);
    if (info.status === 'deprecated') notes.push(`${name} is deprecated in NCCL ${release}${info.replaced_by ? `: ${info.replaced_by} replaces it` : ''}`);
    if (info.risk !== 'tuning') notes.push(`${name} is classed ${info.risk}: see nccl_params before using a result in production`);
    const bounded = refinements.some((r) => r.name.toUpperCase() === name && ((r.min !== undefined && r.max !== undefined) || r.choices !== undefined));
    return ncclParam(info, algorithms.map((a) => a.name), bounded);
  });
  const space = refine(params, refinements.map((r) => ({ ...r, name: r.name.toUpperCase() })), 'nccl');
  const protocolsOf = new Map(algorithms.map((a) => [a.name, a.protocols]));
  return {
    name: 'nccl',
    params: space,
    notes,
    toConfig(point) {
      const config: Record<string, string> = {};
      for (const p of space) {
        const v = point[p.name];
        if (v === undefined || v === NONE || v === p.default) continue;
        config[p.name] = p.type === 'bool' ? (v ? '1' : '0') : String(v);
      }
      return config;
    },
    fromConfig(config) {
      if (!config || typeof config !== 'object' || Array.isArray(config)) return null;
      const entries = Object.entries(config as Record<string, unknown>);
      if (entries.some(([k]) => !space.some((p) => p.name === k))) return null;
      const point: Point = {};
      for (const p of space) {
        const raw = (config as Record<string, unknown>)[p.name];
        if (raw === undefined) {
          point[p.name] = p.default;
          continue;
        }
        const text = String(raw);
        const v = p.type === 'categorical' ? p.choices!.find((c) => String(c).toLowerCase() === text.toLowerCase()) : coerceValue(p, text);
        if (v === undefined) return null; // per-collective rules, lists, values outside the space
        point[p.name] = v;
      }
      return point;
    },
    isValid(point) {
      const algo = point.NCCL_ALGO;
      const proto = point.NCCL_PROTO;
      if (typeof algo !== 'string' || algo === NONE || typeof proto !== 'string' || proto === NONE) return true;
      return protocolsOf.get(algo)?.includes(proto) ?? true;
    },
  };
}

/** The default variables this release reads; one it does not read gives way to the name it replaced (NCCL_MIN_CTAS -> NCCL_MIN_NCHANNELS before 2.17). */
function defaultNcclVariables(read: Map<string, ParameterInfo>, notes: string[], release: string): string[] {
  return DEFAULT_NCCL_VARIABLES.flatMap((name) => {
    if (read.has(name)) return [name];
    const older = [...read.values()].find((p) => p.replaced_by === name);
    notes.push(older ? `${name} is not read by NCCL ${release}: ${older.name} is varied instead` : `${name} is not read by NCCL ${release}: left out`);
    return older ? [older.name] : [];
  });
}

/** NCCL_ALGO's elements in the release, narrowed to those implementing the collective when it is one NCCL tunes. */
function algorithmsFor(options: NamedSpaceOptions, notes: string[]): AlgorithmInfo[] {
  const all = ncclAlgorithms(options.ncclVersion);
  if (!options.collective) return all;
  const collective = (ncclCollectiveOf(options.collective) ?? options.collective).toLowerCase();
  const implementing = all.filter((a) => a.collectives.some((c) => c.toLowerCase() === collective));
  if (implementing.length === 0) {
    notes.push(`No NCCL algorithm is chosen for ${options.collective}: NCCL_ALGO lists every algorithm`);
    return all;
  }
  return implementing;
}

function notReadBy(name: string, version: string | undefined, read: Map<string, ParameterInfo>): UserError {
  const known = describeParams({ names: [name], ncclVersion: version })[0];
  if (!known) return new UserError(`${name} is not in the NCCL parameter table.`, 'See the tunable variables with nccl_params {"risk": "tuning"}.');
  const window = `${known.since ? `read since ${known.since}` : 'read by old releases'}${known.removed_in ? `, not from ${known.removed_in}` : ''}`;
  // The name this release reads instead: the newer one, or the older one it replaced.
  const instead = (known.replaced_by && read.has(known.replaced_by) ? known.replaced_by : undefined) ?? [...read.values()].find((p) => p.replaced_by === name)?.name;
  return new UserError(
    `${name} is not read by NCCL ${version ?? 'in the newest release the table knows'} (${window}): NCCL would ignore it.`,
    instead ? `Vary ${instead} instead.` : 'Drop it from the variables, or give the NCCL release you run as nccl_version.',
  );
}

function ncclParam(info: ParameterInfo, algorithms: string[], bounded: boolean): ParamSpec {
  const base = { name: info.name, description: info.description };
  const numDefault = info.default !== null && Number.isFinite(Number(info.default)) ? Number(info.default) : undefined;
  const words = (values: string[]): ParamSpec => ({ ...base, type: 'categorical', choices: [...(info.default === null ? [NONE] : []), ...values], default: info.default ?? NONE });
  switch (info.type) {
    case 'algo-list':
      return { ...base, type: 'categorical', choices: [NONE, ...algorithms], default: NONE, description: 'One algorithm for every collective, or none (NCCL chooses).' };
    case 'proto-list':
      return { ...base, type: 'categorical', choices: [NONE, ...(info.values ?? [])], default: NONE, description: 'One protocol, or none (NCCL chooses).' };
    case 'bool':
      return { ...base, type: 'bool', default: numDefault === undefined ? undefined : numDefault !== 0 };
    case 'enum':
    case 'level':
    case 'cta-policy':
      if (info.values?.length) return words(info.values);
      break;
    case 'int': {
      if (info.allowed) return { ...base, type: 'categorical', choices: info.allowed, default: info.allowed.includes(numDefault as number) ? numDefault : undefined };
      const { min, max } = info.range ?? {};
      if (min === undefined || max === undefined) {
        // Bounds or choices from the caller (refine) stand in for a range the table does not give.
        if (bounded) return { ...base, type: 'int', min: min ?? Number.MIN_SAFE_INTEGER, max: max ?? Number.MAX_SAFE_INTEGER, default: numDefault };
        break;
      }
      return { ...base, type: 'int', min, max, log: min > 0 && max / min >= 16, default: numDefault };
    }
    case 'bytes': {
      // Powers of two (NCCL's advice for buffer sizes) inside the release's range.
      const choices: number[] = [];
      for (let b = Math.max(info.range?.min ?? 1, BUFFSIZE_RANGE[0]); b <= Math.min(info.range?.max ?? Infinity, BUFFSIZE_RANGE[1]); b *= 2) choices.push(b);
      if (choices.length) return { ...base, type: 'categorical', choices, default: numDefault };
      break;
    }
    default:
      break;
  }
  throw new UserError(`${info.name} (${info.type}) is not a value the suggester can vary.`, 'Vary algorithm, protocol, integer, size, level or switch variables (an integer without a documented range needs min and max in params); set the others in the job environment.');
}
