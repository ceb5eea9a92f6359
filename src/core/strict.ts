/**
 * Unknown keys are refused at every depth of a tool's input, not only at the top: a misspelt
 * `tolerances.float32.atoll` would otherwise be dropped silently and the default used. Rather than
 * ask every schema to spell `z.strictObject`, the server rebuilds each input schema once at
 * registration with every object strict; descriptions and other metadata are carried over.
 */
import { z } from 'zod';

type Schema = z.ZodType;
// zod's def objects differ per type; this is the part strictDeep reads and rebuilds.
interface Def {
  type: string;
  shape?: Record<string, Schema>;
  catchall?: Schema;
  innerType?: Schema;
  element?: Schema;
  valueType?: Schema;
  options?: Schema[];
  items?: Schema[];
  rest?: Schema | null;
  left?: Schema;
  right?: Schema;
  in?: Schema;
}

/** zod schema types that wrap one inner schema (`innerType`). */
export const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch']);

/** `schema` with every object in it strict (unknown keys refused); unchanged parts keep their identity. */
export function strictDeep<T extends Schema>(schema: T): T {
  return rebuild(schema) as T;
}

function rebuild(schema: Schema): Schema {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  let next: Partial<Def> | null = null;
  if (def.type === 'object') {
    const shape = Object.fromEntries(Object.entries(def.shape!).map(([k, v]) => [k, rebuild(v)]));
    const changed = Object.keys(shape).some((k) => shape[k] !== def.shape![k]);
    // An explicit catchall (a record-like object) stays as it is; none means "strip", made "refuse".
    if (changed || def.catchall === undefined) next = { shape, catchall: def.catchall ?? z.never() };
  } else if (WRAPPERS.has(def.type)) {
    next = replaced(def, 'innerType');
  } else if (def.type === 'array') {
    next = replaced(def, 'element');
  } else if (def.type === 'record') {
    next = replaced(def, 'valueType');
  } else if (def.type === 'union') {
    const options = def.options!.map(rebuild);
    if (options.some((o, i) => o !== def.options![i])) next = { options };
  } else if (def.type === 'tuple') {
    const items = def.items!.map(rebuild);
    const rest = def.rest ? rebuild(def.rest) : def.rest;
    if (rest !== def.rest || items.some((o, i) => o !== def.items![i])) next = { items, rest };
  } else if (def.type === 'intersection') {
    next = { ...replaced(def, 'left'), ...replaced(def, 'right') };
    if (Object.keys(next).length === 0) next = null;
  } else if (def.type === 'pipe') {
    next = replaced(def, 'in');
  }
  if (!next) return schema;
  const copy = (schema as unknown as { clone(def: object): Schema }).clone({ ...def, ...next });
  const meta = z.globalRegistry.get(schema);
  return meta ? copy.meta(meta) : copy;
}

function replaced(def: Def, key: 'innerType' | 'element' | 'valueType' | 'left' | 'right' | 'in'): Partial<Def> | null {
  const inner = def[key]!;
  const next = rebuild(inner);
  return next === inner ? null : { [key]: next };
}
