/**
 * The environment an nccl-tests run gets. By default only what the caller chose (profile + env)
 * reaches NCCL: NCCL_* variables the server itself inherited are removed, so a run measures the
 * config it records, and "the untuned default" really has no tuning variables. inherit_env keeps
 * them (they are then part of the recorded config).
 */
import type { NcclEnv } from '../params/validate.js';

/** Variables that change what NCCL logs, not what it does: kept out of the recorded config. */
export const LOGGING_VARS = ['NCCL_DEBUG', 'NCCL_DEBUG_SUBSYS', 'NCCL_DEBUG_FILE'];

export interface EffectiveEnv {
  /** Every variable set for the run. */
  env: NcclEnv;
  /** Inherited NCCL_* names that were removed. */
  dropped: string[];
  /** What to pass to exec: the variables, plus `undefined` for each dropped one. */
  childEnv: Record<string, string | undefined>;
}

export function effectiveEnv(explicit: NcclEnv, inherit: boolean, serverEnv: NodeJS.ProcessEnv = process.env): EffectiveEnv {
  const inherited = Object.fromEntries(
    Object.entries(serverEnv).filter((e): e is [string, string] => e[0].startsWith('NCCL_') && e[1] !== undefined),
  );
  const env = inherit ? { ...inherited, ...explicit } : { ...explicit };
  const dropped = inherit ? [] : Object.keys(inherited).filter((k) => !(k in explicit)).sort();
  return { env, dropped, childEnv: { ...env, ...Object.fromEntries(dropped.map((k) => [k, undefined])) } };
}

export interface RecordedConfig {
  /** NCCL_* variables that affect NCCL's behaviour: the history config. */
  config: NcclEnv;
  /** Logging variables, kept in the run's context. */
  logging: NcclEnv;
  /** Names (not values: they may be anything) of other variables the caller passed. */
  otherNames: string[];
}

export function recordedConfig(env: NcclEnv): RecordedConfig {
  const config: NcclEnv = {};
  const logging: NcclEnv = {};
  const otherNames: string[] = [];
  for (const [k, v] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (LOGGING_VARS.includes(k)) logging[k] = v;
    else if (k.startsWith('NCCL_') && !k.startsWith('NCCL_TESTS_')) config[k] = v;
    else otherNames.push(k);
  }
  return { config, logging, otherNames };
}
