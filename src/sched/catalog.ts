/**
 * The scheduler catalog (schedulers/catalog.json): what each scx scheduler is for and its real
 * flags. The zod schema below is the single definition; schedulers/catalog.schema.json is generated
 * from it (a test keeps the two equal and validates the catalog against the JSON Schema).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CATALOG_PATH } from './paths.js';

export const FLAG_TYPES = ['int', 'float', 'bool', 'count', 'string', 'enum', 'int_list'] as const;
export const PRODUCTION_STATUSES = ['production', 'experimental', 'not-for-latency-critical', 'testing-only'] as const;

export const flagSchema = z
  .object({
    name: z.string().regex(/^--[a-z0-9][a-z0-9-]*$/).describe('Long flag exactly as the binary spells it, e.g. --slice-us.'),
    short: z.string().regex(/^-[A-Za-z]$/).optional().describe('Short alias, e.g. -s.'),
    type: z.enum(FLAG_TYPES).describe('bool/count take no value; int_list is comma-separated integers.'),
    default: z.union([z.number(), z.string(), z.boolean()]).optional().describe("The binary's default."),
    min: z.number().optional(),
    max: z.number().optional(),
    choices: z.array(z.string()).min(1).optional().describe('Accepted values of an enum flag.'),
    group: z.string().optional().describe('Flags sharing a group are mutually exclusive.'),
    unit: z.string().optional(),
    description: z.string().min(1).describe('One-line meaning.'),
  })
  .strict();

export const schedulerSchema = z
  .object({
    name: z.string().regex(/^scx_[a-z0-9_]+$/).describe('Binary name.'),
    ops_name: z.string().min(1).describe('Name the scheduler registers (root/ops shows it, possibly with a version suffix).'),
    purpose: z.string().min(1),
    algorithm: z.string().min(1),
    use_cases: z.array(z.string()).min(1),
    characteristics: z.array(z.string()).min(1),
    limitations: z.array(z.string()),
    production_status: z.enum(PRODUCTION_STATUSES),
    status_note: z.string(),
    flags: z.array(flagSchema),
    positional: z
      .object({ name: z.string(), required: z.boolean(), description: z.string() })
      .strict()
      .optional()
      .describe('A positional argument the scheduler takes (scx_layered: its layer spec).'),
  })
  .strict();

export const catalogSchema = z
  .object({
    $schema: z.string().optional(),
    scx_version: z.string().describe('The scx release whose clap definitions this catalog describes.'),
    source: z.string(),
    common_flags: z.array(flagSchema).describe('Flags every scx scheduler accepts.'),
    not_runnable_flags: z.array(z.string()).describe('Common flags that make the binary not load a scheduler (refused by run_scheduler).'),
    schedulers: z.array(schedulerSchema).min(1),
  })
  .strict();

export type CatalogFlag = z.infer<typeof flagSchema>;
export type CatalogScheduler = z.infer<typeof schedulerSchema>;
export type Catalog = z.infer<typeof catalogSchema>;

let cached: Catalog | undefined;

export function loadCatalog(): Catalog {
  cached ??= catalogSchema.parse(JSON.parse(readFileSync(CATALOG_PATH, 'utf8')));
  return cached;
}

/** By binary name ("scx_lavd") or ops name ("lavd"). */
export function findCatalogScheduler(catalog: Catalog, name: string): CatalogScheduler | undefined {
  return catalog.schedulers.find((s) => s.name === name || s.ops_name === name);
}

export interface CatalogFilter {
  name?: string;
  use_case?: string;
  characteristic?: string;
  production_status?: (typeof PRODUCTION_STATUSES)[number];
}

/** Case-insensitive substring matches on name, use case and characteristic; exact status. */
export function filterCatalog<T extends Pick<CatalogScheduler, 'name' | 'use_cases' | 'characteristics' | 'production_status'>>(
  schedulers: readonly T[],
  filter: CatalogFilter,
): T[] {
  const has = (list: string[], needle: string) => list.some((x) => x.toLowerCase().includes(needle.toLowerCase()));
  return schedulers.filter(
    (s) =>
      (!filter.name || s.name.toLowerCase().includes(filter.name.toLowerCase())) &&
      (!filter.use_case || has(s.use_cases, filter.use_case)) &&
      (!filter.characteristic || has(s.characteristics, filter.characteristic)) &&
      (!filter.production_status || s.production_status === filter.production_status),
  );
}
