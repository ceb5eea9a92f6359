/**
 * The text of a tool call whose arguments do not fit the tool's input schema. It names each field
 * and what was wrong, and quotes the caller's input only in bounded pieces (keys, path segments,
 * messages): a 1 MB argument, or a 1 MB key in a map, must not come back as 1 MB of error text.
 */
import { z } from 'zod';
import { quoteInput } from './errors.js';
import { WRAPPERS } from './strict.js';

const MAX_ISSUES = 8;
const MAX_SEGMENT = 40;
const MAX_MESSAGE = 300;
const MAX_KEYS = 5;

export function formatInputError(toolName: string, schema: z.ZodType, error: z.ZodError): string {
  const issues = error.issues.slice(0, MAX_ISSUES).map((issue) => describeIssue(toolName, schema, issue));
  const more = error.issues.length > MAX_ISSUES ? [`... and ${error.issues.length - MAX_ISSUES} more problem(s)`] : [];
  const head = `Invalid arguments for ${toolName}:`;
  return issues.length === 1 && more.length === 0 ? `${head} ${issues[0]}` : [head, ...[...issues, ...more].map((l) => `  ${l}`)].join('\n');
}

function describeIssue(toolName: string, schema: z.ZodType, issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? `${pathText(issue.path)}: ` : '';
  if (issue.code === 'unrecognized_keys') {
    const keys = keyList(issue.keys);
    const allowed = Object.keys(objectShapeAt(schema, issue.path) ?? {});
    if (issue.path.length === 0) return `Unknown argument(s) ${keys}; ${toolName} takes: ${allowed.join(', ') || 'no arguments'}`;
    return `${where}unknown key(s) ${keys}${allowed.length ? `; allowed: ${allowed.join(', ')}` : ''}`;
  }
  return `${where}${quoteInput(issue.message, MAX_MESSAGE)}`;
}

function keyList(keys: readonly string[]): string {
  const shown = keys.slice(0, MAX_KEYS).map((k) => `"${quoteInput(k, MAX_SEGMENT)}"`);
  return keys.length > MAX_KEYS ? `${shown.join(', ')} and ${keys.length - MAX_KEYS} more` : shown.join(', ');
}

function pathText(path: readonly PropertyKey[]): string {
  return quoteInput(
    path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${quoteInput(String(p), MAX_SEGMENT)}`)).join(''),
    4 * MAX_SEGMENT,
  );
}

/** The shape of the object schema reached by following `path` (through wrappers, maps and lists). */
function objectShapeAt(schema: z.ZodType, path: readonly PropertyKey[]): Record<string, unknown> | null {
  let current: z.ZodType | undefined = schema;
  for (let i = 0; i <= path.length && current; ) {
    const def: Record<string, unknown> & { type: string } = (current as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
    if (WRAPPERS.has(def.type)) {
      current = def.innerType as z.ZodType;
      continue;
    }
    if (i === path.length) return def.type === 'object' ? (def.shape as Record<string, unknown>) : null;
    if (def.type === 'object') current = (def.shape as Record<string, z.ZodType>)[String(path[i])];
    else if (def.type === 'record') current = def.valueType as z.ZodType;
    else if (def.type === 'array') current = def.element as z.ZodType;
    else return null;
    i++;
  }
  return null;
}
