/**
 * Named NCCL environment profiles in SQLite. A profile is a validated, normalized set of
 * variables that run_nccl_tests, nccl_sweep and nccl_env render/write_conf can refer to by name.
 */
import { UserError } from '../../core/errors.js';
import type { Migration, Store } from '../../core/store.js';
import { canonicalJson } from '../../learn/canonical.js';
import { validateNcclEnv, type NcclEnv, type ValidationResult } from '../params/validate.js';

export const ncclMigrations: Migration[] = [
  {
    version: 1,
    name: 'NCCL environment profiles',
    up: `CREATE TABLE nccl_profiles (
      name TEXT PRIMARY KEY,
      description TEXT NOT NULL DEFAULT '',
      env TEXT NOT NULL,
      nccl_version TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );`,
  },
];

export interface Profile {
  name: string;
  description: string;
  env: NcclEnv;
  /** The NCCL release the profile was validated for, when one was given. */
  nccl_version: string | null;
  created_at: string;
  updated_at: string;
}

interface ProfileRow extends Omit<Profile, 'env'> {
  env: string;
}

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkProfileName(name: string): void {
  if (!PROFILE_NAME.test(name)) {
    throw new UserError(`Profile name "${name}" is not allowed.`, 'Use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.');
  }
}

/** Validate and store a profile; refuses configs with errors, and existing names unless `replace`. */
export function saveProfile(
  store: Store,
  input: { name: string; env: NcclEnv; description?: string; ncclVersion?: string; replace?: boolean },
): { profile: Profile; validation: ValidationResult; replaced: boolean } {
  checkProfileName(input.name);
  if (Object.keys(input.env).length === 0) throw new UserError('The profile has no variables.', 'Pass env, e.g. {"NCCL_ALGO": "Ring"}.');
  const validation = validateNcclEnv(input.env, { ncclVersion: input.ncclVersion });
  if (!validation.ok) {
    throw new UserError(
      `Profile "${input.name}" was not saved: ${validation.errors.map((e) => e.message).join(' ')}`,
      'Fix the values named above (nccl_env {action: "validate"} lists every problem with a suggestion).',
    );
  }
  const now = new Date().toISOString();
  return store.write((db) => {
    const existing = db.prepare('SELECT created_at FROM nccl_profiles WHERE name = ?').get(input.name) as { created_at: string } | undefined;
    if (existing && !input.replace) {
      throw new UserError(`A profile named "${input.name}" already exists.`, 'Pass replace: true to overwrite it, or choose another name.');
    }
    db.prepare(
      `INSERT INTO nccl_profiles (name, description, env, nccl_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET description = excluded.description, env = excluded.env,
         nccl_version = excluded.nccl_version, updated_at = excluded.updated_at`,
    ).run(input.name, input.description ?? '', canonicalJson(validation.normalized), input.ncclVersion ?? null, existing?.created_at ?? now, now);
    return { profile: getProfile(store, input.name), validation, replaced: !!existing };
  });
}

export function getProfile(store: Store, name: string): Profile {
  const row = store.db.prepare('SELECT * FROM nccl_profiles WHERE name = ?').get(name) as ProfileRow | undefined;
  if (!row) {
    const names = listProfiles(store).map((p) => p.name);
    throw new UserError(`No NCCL profile named "${name}".`, names.length ? `Saved profiles: ${names.join(', ')}.` : 'Save one with nccl_env {action: "save", name, env}.');
  }
  return toProfile(row);
}

export function listProfiles(store: Store): Profile[] {
  return (store.db.prepare('SELECT * FROM nccl_profiles ORDER BY name').all() as ProfileRow[]).map(toProfile);
}

export function deleteProfile(store: Store, name: string): Profile {
  const profile = getProfile(store, name);
  store.write((db) => db.prepare('DELETE FROM nccl_profiles WHERE name = ?').run(name));
  return profile;
}

/** A profile's variables with `overrides` on top: the environment a run or render uses. */
export function resolveEnv(store: Store, profileName: string | undefined, overrides: NcclEnv | undefined): NcclEnv {
  const base = profileName ? getProfile(store, profileName).env : {};
  return { ...base, ...(overrides ?? {}) };
}

function toProfile(row: ProfileRow): Profile {
  return { ...row, env: JSON.parse(row.env) as NcclEnv };
}
