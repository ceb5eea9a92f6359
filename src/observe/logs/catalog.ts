/**
 * The signature catalog (knowledge/incidents/signatures.json): which log lines mean which case.
 * It is data so that adding a case needs no code; this module validates it strictly (a bad catalog
 * is a bug, caught by the catalog test) and compiles it for the matcher.
 *
 * Patterns are compiled with RE2, which runs in time linear in the line whatever the pattern (no
 * backtracking, so no catastrophic case a crafted log line could trigger) and refuses the
 * constructs that would need backtracking (backreferences, lookarounds). Each pattern must also
 * require a literal of at least MIN_LITERAL characters: the literal scan (scanner.ts) then decides
 * for most lines, in one pass, that no pattern can match.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import RE2 from 're2';
import { z } from 'zod';
import { requiredLiterals, selectivity } from './literals.js';
import { LiteralScanner } from './scanner.js';

export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const CONFIDENCES = ['high', 'medium', 'low'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

/** Higher is worse; used for ranking. */
export const SEVERITY_RANK: Record<Severity, number> = { critical: 4, error: 3, warning: 2, info: 1 };

const entrySchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/),
  title: z.string().min(1),
  regexes: z.array(z.string().min(1)).min(1),
  fields: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/)),
  severity: z.enum(SEVERITIES),
  meaning: z.string().min(1),
  next_checks: z.array(z.string().min(1)).min(1),
  remedy: z.string().min(1),
  knock_on_of: z.array(z.string().regex(/^[a-z][a-z0-9_]*\*?$/)),
  confidence: z.enum(CONFIDENCES).optional(),
  /** Below this many lines the case is reported as info (e.g. one "Waiting for engine" line is normal startup). */
  min_count: z.number().int().min(2).optional(),
  /** Lines kept before / after the first match (the engine log before a hang, the stack after a lockup). */
  context_before: z.number().int().min(1).max(20).optional(),
  context_after: z.number().int().min(1).max(30).optional(),
  /** Fields a multi-line message carries on an earlier line. */
  context_regexes: z.array(z.strictObject({ before: z.number().int().min(1).max(10), regex: z.string() })).optional(),
  /** Field value -> meaning (Xid code names, ibv_wc_status names); adds `<field>_name`. */
  lookups: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  /** A field that says how long before the line the problem began (a watchdog's ran_for, a hung task's seconds). */
  onset: z.strictObject({ field: z.string(), unit: z.enum(['s', 'ms']) }).optional(),
});
const catalogSchema = z.strictObject({ version: z.literal(1), description: z.string(), signatures: z.array(entrySchema).min(1) });

export type SignatureEntry = z.infer<typeof entrySchema>;

export type Pattern = InstanceType<typeof RE2>;

export interface Signature extends Omit<SignatureEntry, 'regexes' | 'knock_on_of' | 'context_regexes' | 'confidence'> {
  regexes: Pattern[];
  /** knock_on_of with wildcards expanded to ids (never the case itself). */
  knock_on_of: string[];
  context_regexes: { before: number; regex: Pattern }[];
  confidence: Confidence;
}

export interface Catalog {
  signatures: Signature[];
  byId: Map<string, Signature>;
  /** Finds the lines where some signature could match: at least one of its required literals occurs. */
  scanner: LiteralScanner;
  /** Every signature regex, in catalog order: one pass tells which of them match a line. */
  set: InstanceType<typeof RE2.Set>;
  /** set index -> the signature and regex it stands for. */
  entries: { sig: Signature; regex: Pattern }[];
  /** Largest number of earlier lines any signature needs. */
  maxBefore: number;
}

/** The shortest literal a pattern must require, so the scan stays selective. */
export const MIN_LITERAL = 4;

export const DEFAULT_CATALOG_PATH = fileURLToPath(new URL('../../../knowledge/incidents/signatures.json', import.meta.url));

let cached: Catalog | null = null;

export function loadCatalog(path = DEFAULT_CATALOG_PATH): Catalog {
  if (path === DEFAULT_CATALOG_PATH && cached) return cached;
  const catalog = compileCatalog(JSON.parse(readFileSync(path, 'utf8')));
  if (path === DEFAULT_CATALOG_PATH) cached = catalog;
  return catalog;
}

/** Validate and compile; throws an Error naming the entry and the problem. */
export function compileCatalog(data: unknown): Catalog {
  const parsed = catalogSchema.parse(data);
  const ids = parsed.signatures.map((s) => s.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new Error(`signature catalog: duplicate id "${duplicate}"`);

  const signatures = parsed.signatures.map((entry): Signature => {
    const where = `signature catalog: ${entry.id}`;
    const compile = (source: string): Pattern => {
      try {
        return new RE2(source);
      } catch (error) {
        throw new Error(`${where}: invalid regex ${source}: ${(error as Error).message} (patterns are RE2: no backreferences or lookarounds)`);
      }
    };
    const regexes = entry.regexes.map(compile);
    const contextRegexes = (entry.context_regexes ?? []).map((c) => ({ before: c.before, regex: compile(c.regex) }));
    const groups = new Set([...regexes, ...contextRegexes.map((c) => c.regex)].flatMap(groupNames));
    for (const g of groups) if (!entry.fields.includes(g)) throw new Error(`${where}: regex group "${g}" is not listed in fields`);
    for (const f of entry.fields) if (!groups.has(f)) throw new Error(`${where}: field "${f}" is captured by no regex`);
    for (const k of Object.keys(entry.lookups ?? {})) if (!entry.fields.includes(k)) throw new Error(`${where}: lookup on unknown field "${k}"`);
    if (entry.onset && !entry.fields.includes(entry.onset.field)) throw new Error(`${where}: onset field "${entry.onset.field}" is not a field`);
    const knockOn = new Set<string>();
    for (const pattern of entry.knock_on_of) {
      const matches = pattern.endsWith('*') ? ids.filter((id) => id.startsWith(pattern.slice(0, -1))) : ids.filter((id) => id === pattern);
      if (matches.length === 0) throw new Error(`${where}: knock_on_of "${pattern}" names no case`);
      for (const id of matches) if (id !== entry.id) knockOn.add(id);
    }
    return { ...entry, regexes, context_regexes: contextRegexes, knock_on_of: [...knockOn], confidence: entry.confidence ?? 'high' };
  });

  const byId = new Map(signatures.map((s) => [s.id, s]));
  assertAcyclic(signatures, byId);
  const literals: string[] = [];
  const entries = signatures.flatMap((sig) => sig.regexes.map((regex) => ({ sig, regex })));
  for (const { sig, regex } of entries) {
    const required = requiredLiterals(regex.source);
    if (selectivity(required) < MIN_LITERAL) {
      throw new Error(`signature catalog: ${sig.id}: regex ${regex.source} requires no literal of ${MIN_LITERAL}+ characters (found ${JSON.stringify(required)}); add fixed text so lines can be skipped cheaply`);
    }
    literals.push(...required!);
  }
  // Set patterns lose their group names: only which patterns match is asked of the set.
  const set = new RE2.Set(entries.map((e) => e.regex.source.replace(/\(\?<([a-zA-Z_][a-zA-Z0-9_]*)>/g, '(?:')));
  const maxBefore = Math.max(0, ...signatures.map((s) => Math.max(s.context_before ?? 0, ...s.context_regexes.map((c) => c.before))));
  return { signatures, byId, scanner: new LiteralScanner(literals), set, entries, maxBefore };
}

function groupNames(regex: Pattern): string[] {
  return [...regex.source.matchAll(/\(\?<([a-zA-Z_][a-zA-Z0-9_]*)>/g)].map((m) => m[1]);
}

/** A cause must never be (transitively) a knock-on of its own knock-on: ranking would loop. */
function assertAcyclic(signatures: Signature[], byId: Map<string, Signature>): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new Error(`signature catalog: knock_on_of cycle ${[...path, id].join(' -> ')}`);
    state.set(id, 'visiting');
    for (const cause of byId.get(id)!.knock_on_of) visit(cause, [...path, id]);
    state.set(id, 'done');
  };
  for (const s of signatures) visit(s.id, []);
}
