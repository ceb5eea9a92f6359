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
 * `refused_with`/`conflicts_with` (exclusive flags); nccl/params.ts `paramTable`.
 */
import { UserError } from '../../core/errors.js';
import { findCatalogScheduler, loadCatalog, schedulerFlagSpace, type CatalogFlag, type SchedulerFlagSpace } from '../../sched/catalog.js';
import { paramStatus, paramTable, type ParamSpec as NcclParam } from '../../nccl/params/table.js';
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

export function namedSpace(name: string, variables: string[] | undefined, refinements: ParamRefinement[]): NamedSpace {
  if (name.startsWith('sched:')) return schedulerSpace(name.slice('sched:'.length), variables, refinements);
  if (name === 'nccl') return ncclSpace(variables, refinements);
  throw new UserError(`Unknown named space "${name}".`, 'Use "sched:<scheduler>" (e.g. "sched:scx_lavd") or "nccl", or pass params for an explicit space.');
}

function refine(params: ParamSpec[], refinements: ParamRefinement[], spaceName: string): ParamSpec[] {
  const byName = new Map(params.map((p) => [p.name, p]));
  for (const r of refinements) {
    const p = byName.get(r.name);
    if (!p) throw new UserError(`"${r.name}" is not a parameter of ${spaceName}.`, `Its parameters: ${params.map((x) => x.name).join(', ') || 'none'}. Add it to variables first if the table has it.`);
    byName.set(r.name, { ...p, ...Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) });
  }
  const out = [...byName.values()];
  // A default the refinement moved out of range is dropped rather than refused: it is still the baseline, just not in the space.
  return validateParams(
    out.map((p) => (p.default !== undefined && coerceValue({ ...p, choices: p.choices ?? (p.type === 'bool' ? [false, true] : undefined) }, p.default) === undefined ? { ...p, default: undefined } : p)),
    `space ${spaceName}`,
  );
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

function ncclSpace(variables: string[] | undefined, refinements: ParamRefinement[]): NamedSpace {
  const table = paramTable();
  const names = (variables?.length ? variables : DEFAULT_NCCL_VARIABLES).map((v) => v.toUpperCase());
  const notes: string[] = [];
  const params: ParamSpec[] = names.map((name) => {
    const spec = table.byName.get(name);
    if (!spec) throw new UserError(`${name} is not in the NCCL parameter table.`, 'See the tunable variables with nccl_params {"risk": "tuning"}.');
    const status = paramStatus(spec);
    if (status === 'removed') throw new UserError(`${name} is removed from current NCCL (ignored).`, spec.replaced_by ? `Use ${spec.replaced_by}.` : 'Drop it from variables.');
    if (spec.risk !== 'tuning') notes.push(`${name} is classed ${spec.risk}: see nccl_params before using a result in production`);
    return ncclParam(spec, table.algorithms, table.protocols);
  });
  const space = refine(params, refinements, 'nccl');
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
  };
}

function ncclParam(spec: NcclParam, algorithms: Record<string, unknown>, protocols: string[]): ParamSpec {
  const base = { name: spec.name, description: spec.description };
  const numDefault = spec.default !== null && Number.isFinite(Number(spec.default)) ? Number(spec.default) : undefined;
  switch (spec.type) {
    case 'algo-list':
      return { ...base, type: 'categorical', choices: [NONE, ...Object.keys(algorithms)], default: NONE, description: 'One algorithm for every collective, or none (NCCL chooses).' };
    case 'proto-list':
      return { ...base, type: 'categorical', choices: [NONE, ...protocols], default: NONE, description: 'One protocol, or none (NCCL chooses).' };
    case 'bool':
      return { ...base, type: 'bool', default: numDefault === undefined ? undefined : numDefault !== 0 };
    case 'enum':
      return { ...base, type: 'categorical', choices: [...(spec.default === null ? [NONE] : []), ...(spec.values ?? [])], default: spec.default ?? NONE };
    case 'int':
      if (spec.allowed) return { ...base, type: 'categorical', choices: spec.allowed, default: numDefault };
      if (spec.min === undefined || spec.max === undefined) break;
      return { ...base, type: 'int', min: spec.min, max: spec.max, log: spec.min > 0 && spec.max / spec.min >= 16, default: numDefault };
    case 'bytes': {
      if (!spec.power_of_two) break;
      const choices: number[] = [];
      for (let b = Math.max(spec.min ?? 1, BUFFSIZE_RANGE[0]); b <= Math.min(spec.max ?? Infinity, BUFFSIZE_RANGE[1]); b *= 2) choices.push(b);
      return { ...base, type: 'categorical', choices, default: numDefault };
    }
    default:
      break;
  }
  throw new UserError(`${spec.name} (${spec.type}) is not a value the suggester can vary.`, 'Vary algorithm, protocol, integer, size or switch variables; set the others in the job environment.');
}
