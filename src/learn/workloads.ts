/** Workloads: named, described things to tune, which runs refer to. */
import { UserError } from '../core/errors.js';
import type { Store } from '../core/store.js';

export const CLASSIFICATIONS = ['latency-sensitive', 'throughput', 'batch', 'interactive', 'mixed', 'other'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export interface WorkloadInput {
  name: string;
  description?: string;
  /** argv; with `shell`, a single script string run by /bin/sh -c. */
  command?: string[];
  cwd?: string;
  env?: Record<string, string>;
  shell?: boolean;
  classification?: Classification;
  tags?: string[];
}

export interface Workload {
  id: number;
  name: string;
  description: string;
  command: string[] | null;
  cwd: string | null;
  env: Record<string, string>;
  shell: boolean;
  classification: Classification | null;
  tags: string[];
  created_at: string;
}

interface WorkloadRow {
  id: number;
  name: string;
  description: string;
  command: string | null;
  cwd: string | null;
  env: string;
  shell: number;
  classification: Classification | null;
  tags: string;
  created_at: string;
}

export const WORKLOAD_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function createWorkload(store: Store, input: WorkloadInput): Workload {
  if (!WORKLOAD_NAME.test(input.name)) {
    throw new UserError(
      `Invalid workload name "${input.name}".`,
      'Use 1-64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit.',
    );
  }
  if (input.shell && (input.command?.length ?? 0) !== 1) {
    throw new UserError('With shell: true, command must be exactly one script string.', 'Pass command: ["make -j8 && ./bench"], or drop shell and pass an argv array.');
  }
  if (input.command && input.command.length === 0) {
    throw new UserError('command is empty.', 'Pass an argv array such as ["stress-ng", "--cpu", "4", "-t", "10"], or omit command.');
  }
  return store.write((db) => {
    const existing = db.prepare('SELECT id FROM workloads WHERE name = ?').get(input.name);
    if (existing) {
      throw new UserError(`A workload named "${input.name}" already exists.`, 'Use workload {action: "get"} to see it, or choose another name.');
    }
    const info = db
      .prepare(
        `INSERT INTO workloads (name, description, command, cwd, env, shell, classification, tags, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        input.name,
        input.description ?? '',
        input.command ? JSON.stringify(input.command) : null,
        input.cwd ?? null,
        JSON.stringify(input.env ?? {}),
        input.shell ? 1 : 0,
        input.classification ?? null,
        JSON.stringify(input.tags ?? []),
        new Date().toISOString(),
      );
    return toWorkload(db.prepare('SELECT * FROM workloads WHERE id = ?').get(info.lastInsertRowid) as WorkloadRow);
  });
}

export function listWorkloads(store: Store, filter: { tag?: string; classification?: Classification; limit: number; offset: number }): Workload[] {
  const rows = store.db
    .prepare(
      `SELECT * FROM workloads
       WHERE (@classification IS NULL OR classification = @classification)
         AND (@tag IS NULL OR EXISTS (SELECT 1 FROM json_each(workloads.tags) WHERE value = @tag))
       ORDER BY id LIMIT @limit OFFSET @offset`,
    )
    .all({ classification: filter.classification ?? null, tag: filter.tag ?? null, limit: filter.limit, offset: filter.offset }) as WorkloadRow[];
  return rows.map(toWorkload);
}

/** By id (number or numeric string) or by name. */
export function findWorkload(store: Store, ref: string | number): Workload {
  const row = (
    typeof ref === 'number' || /^\d+$/.test(ref)
      ? store.db.prepare('SELECT * FROM workloads WHERE id = ?').get(Number(ref))
      : store.db.prepare('SELECT * FROM workloads WHERE name = ?').get(ref)
  ) as WorkloadRow | undefined;
  if (!row) throw new UserError(`No workload "${ref}".`, 'List them with workload {action: "list"}, or create one with workload {action: "create"}.');
  return toWorkload(row);
}

function toWorkload(row: WorkloadRow): Workload {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    command: row.command ? (JSON.parse(row.command) as string[]) : null,
    cwd: row.cwd,
    env: JSON.parse(row.env) as Record<string, string>,
    shell: row.shell === 1,
    classification: row.classification,
    tags: JSON.parse(row.tags) as string[],
    created_at: row.created_at,
  };
}
