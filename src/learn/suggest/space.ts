/**
 * Search spaces: the parameters a suggester may vary, their types, ranges and choices.
 *
 * A point is `{param: value}`. Internally each parameter maps to the unit interval (numeric, on a
 * log scale when asked) or to a choice index (categorical, bool), which is what the surrogate
 * works in. A space also knows how its points look as history configs: an explicit space stores
 * the point itself; named spaces (sched:<scheduler>, nccl) translate to the config their tools
 * record (see named-spaces.ts).
 */
import { UserError } from '../../core/errors.js';

export type ParamType = 'int' | 'float' | 'categorical' | 'bool';
export type Value = string | number | boolean;

export interface ParamSpec {
  name: string;
  type: ParamType;
  /** int/float: inclusive bounds. */
  min?: number;
  max?: number;
  /** int/float: vary on a log scale (bounds must be > 0). */
  log?: boolean;
  /** categorical: the allowed values. */
  choices?: Value[];
  /** The value the system uses when nothing is set; the suggester tries it first. */
  default?: Value;
  description?: string;
}

/** A point may lack a parameter (a recorded config that did not set it): the model treats it as unknown. */
export type Point = Record<string, Value | undefined>;

export interface Space {
  /** "explicit", "sched:scx_lavd", "nccl". */
  name: string;
  params: ParamSpec[];
  /** The history config a point stands for. */
  toConfig(point: Point): unknown;
  /** The point a recorded config stands for, or null when the config is not in this space. */
  fromConfig(config: unknown): Point | null;
  /** Whether a point is a config the system accepts (e.g. no two flags that refuse each other); all are when absent. */
  isValid?(point: Point): boolean;
}

const MAX_PARAMS = 32;
const MAX_CHOICES = 256;

/** Check a parameter list and return it normalised (bools get their two choices). */
export function validateParams(params: ParamSpec[], where = 'space'): ParamSpec[] {
  if (params.length === 0) throw new UserError(`The ${where} has no parameters.`, 'Give at least one parameter, e.g. {"name": "threads", "type": "int", "min": 1, "max": 8}.');
  if (params.length > MAX_PARAMS) throw new UserError(`The ${where} has ${params.length} parameters; at most ${MAX_PARAMS} are supported.`, 'Tune the parameters that matter most first.');
  const seen = new Set<string>();
  return params.map((p) => {
    const bad = (what: string, hint: string): never => {
      throw new UserError(`Parameter "${p.name}" of the ${where}: ${what}`, hint);
    };
    if (seen.has(p.name)) bad('appears twice.', 'Give every parameter a distinct name.');
    seen.add(p.name);
    if (p.type === 'bool') return { ...p, choices: [false, true] };
    if (p.type === 'categorical') {
      const choices = p.choices ?? [];
      if (choices.length < 1) bad('a categorical parameter needs choices.', 'Pass choices, e.g. ["Ring", "Tree"].');
      if (choices.length > MAX_CHOICES) bad(`${choices.length} choices; at most ${MAX_CHOICES}.`, 'Use an int parameter for long ordered ranges.');
      if (new Set(choices.map((c) => JSON.stringify(c))).size !== choices.length) bad('has duplicate choices.', 'List each choice once.');
      if (p.default !== undefined && !choices.some((c) => c === p.default)) bad(`default ${JSON.stringify(p.default)} is not among the choices.`, 'Use one of the choices as default.');
      return { ...p, choices };
    }
    if (p.min === undefined || p.max === undefined || !Number.isFinite(p.min) || !Number.isFinite(p.max)) {
      bad(`a ${p.type} parameter needs finite min and max.`, 'Pass min and max, e.g. {"min": 1, "max": 64}.');
    }
    const min = p.min!;
    const max = p.max!;
    if (min > max) bad(`min ${min} is above max ${max}.`, 'Swap them.');
    if (p.type === 'int' && (!Number.isInteger(min) || !Number.isInteger(max))) bad('int bounds must be integers.', 'Use whole numbers for min and max, or type "float".');
    if (p.log && min <= 0) bad(`log scale needs min > 0 (got ${min}).`, 'Raise min above 0 or drop log.');
    if (p.default !== undefined && (typeof p.default !== 'number' || p.default < min || p.default > max)) {
      bad(`default ${JSON.stringify(p.default)} is outside [${min}, ${max}].`, 'Use a default inside the range.');
    }
    return { ...p, choices: undefined };
  });
}

export function isNumeric(p: ParamSpec): boolean {
  return p.type === 'int' || p.type === 'float';
}

/** Number of distinct values of a parameter (Infinity for float). */
export function cardinality(p: ParamSpec): number {
  if (p.type === 'float') return p.min === p.max ? 1 : Infinity;
  if (p.type === 'int') return p.max! - p.min! + 1;
  return p.choices!.length;
}

/** Number of distinct points, or Infinity. */
export function spaceSize(params: ParamSpec[]): number {
  return params.reduce((n, p) => n * cardinality(p), 1);
}

/** Numeric value -> [0, 1]. */
export function toUnit(p: ParamSpec, x: number): number {
  const lo = p.log ? Math.log(p.min!) : p.min!;
  const hi = p.log ? Math.log(p.max!) : p.max!;
  if (hi === lo) return 0.5;
  const u = ((p.log ? Math.log(x) : x) - lo) / (hi - lo);
  return Math.min(1, Math.max(0, u));
}

/** [0, 1] -> numeric value (ints rounded, then clamped). */
export function fromUnit(p: ParamSpec, u: number): number {
  const lo = p.log ? Math.log(p.min!) : p.min!;
  const hi = p.log ? Math.log(p.max!) : p.max!;
  const raw = lo + Math.min(1, Math.max(0, u)) * (hi - lo);
  const x = p.log ? Math.exp(raw) : raw;
  if (p.type === 'int') return Math.min(p.max!, Math.max(p.min!, Math.round(x)));
  return Math.min(p.max!, Math.max(p.min!, Number(x.toPrecision(6))));
}

/** Index of a value among a categorical/bool parameter's choices, or -1. */
export function choiceIndex(p: ParamSpec, v: Value | undefined): number {
  if (v === undefined) return -1;
  return p.choices!.findIndex((c) => c === v || String(c) === String(v));
}

/** A value as the parameter's own type, or undefined when it does not fit the parameter. */
export function coerceValue(p: ParamSpec, v: unknown): Value | undefined {
  if (v === undefined || v === null) return undefined;
  if (isNumeric(p)) {
    const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(x) || x < p.min! || x > p.max!) return undefined;
    if (p.type === 'int' && !Number.isInteger(x)) return undefined;
    return x;
  }
  if (p.type === 'bool') {
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 1 || v === '1') return true;
    if (v === 'false' || v === 0 || v === '0') return false;
    return undefined;
  }
  const i = choiceIndex(p, v as Value);
  return i >= 0 ? p.choices![i] : undefined;
}

/** The point with each parameter at its default (parameters without one are left unset). */
export function defaultPoint(params: ParamSpec[]): Point {
  const point: Point = {};
  for (const p of params) if (p.default !== undefined) point[p.name] = p.default;
  return point;
}


/** A stable text key for a point: equal points, equal keys. */
export function pointKey(params: ParamSpec[], point: Point): string {
  return params.map((p) => `${p.name}=${point[p.name] === undefined ? '' : String(point[p.name])}`).join('\u0001');
}

/** An explicit space: the point is the config, key for key. Configs with other keys are not in it. */
export function explicitSpace(params: ParamSpec[]): Space {
  const checked = validateParams(params);
  const names = new Set(checked.map((p) => p.name));
  return {
    name: 'explicit',
    params: checked,
    toConfig: (point) => Object.fromEntries(checked.filter((p) => point[p.name] !== undefined).map((p) => [p.name, point[p.name]])),
    fromConfig(config) {
      if (!config || typeof config !== 'object' || Array.isArray(config)) return null;
      const entries = Object.entries(config as Record<string, unknown>);
      if (entries.some(([k]) => !names.has(k))) return null;
      const point: Point = {};
      for (const p of checked) {
        const raw = (config as Record<string, unknown>)[p.name];
        if (raw === undefined) continue;
        const v = coerceValue(p, raw);
        if (v === undefined) return null;
        point[p.name] = v;
      }
      return point;
    },
  };
}

/** How much of the space the observed points cover: per parameter (share of choices, or of 10 bins) and in total. */
export function coverage(params: ParamSpec[], points: Point[]): { distinct_configs: number; space_size: number | null; fraction_of_configs: number | null; per_param: Record<string, number> } {
  const size = spaceSize(params);
  const distinct = new Set(points.map((pt) => pointKey(params, pt))).size;
  const perParam: Record<string, number> = {};
  for (const p of params) {
    const bins = isNumeric(p) ? Math.min(10, cardinality(p)) : cardinality(p);
    const seen = new Set<number>();
    for (const pt of points) {
      const v = pt[p.name];
      if (v === undefined) continue;
      seen.add(isNumeric(p) ? Math.min(bins - 1, Math.floor(toUnit(p, v as number) * bins)) : choiceIndex(p, v));
    }
    perParam[p.name] = Number((seen.size / bins).toFixed(3));
  }
  const finite = Number.isFinite(size) && size <= Number.MAX_SAFE_INTEGER;
  return {
    distinct_configs: distinct,
    space_size: finite ? size : null,
    fraction_of_configs: finite ? Number((distinct / size).toPrecision(3)) : null,
    per_param: perParam,
  };
}
