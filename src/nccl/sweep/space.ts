/**
 * The search space of an adaptive sweep: the caller's space (learn's named `nccl` space or an
 * explicit one) seen as the configs this sweep runs and records.
 *
 * - A point's settings are the variables it adds to the base (values as NCCL reads them: strings,
 *   switches as 1/0); no settings is the untuned default, as in the grid sweep.
 * - History records the NCCL part of a run's environment. The base variables every run keeps (the
 *   default's recorded config: `fixed`) are stripped before the caller's space reads a recorded
 *   config, so earlier sweeps with the same base feed the suggester.
 * - Only configs the validator accepts for the release are points (unless allow_invalid): the
 *   suggester never proposes a config the sweep would refuse.
 */
import type { Point, Space, Value } from '../../learn/suggest/space.js';
import { canonicalJson } from '../../learn/canonical.js';
import type { NcclEnv } from '../params/validate.js';
import { recordedConfig } from '../run/env.js';
import { plannedConfig, type PlannedConfig } from './plan.js';

export interface SweepSpace extends Space {
  /** The variables a point adds to the base. */
  settingsOf(point: Point): NcclEnv;
  /** The point of the untuned default. */
  baseline: Point;
}

export function sweepSpace(inner: Space, defaultConfig: PlannedConfig, input: { base: NcclEnv; ncclVersion?: string; allowInvalid: boolean }): SweepSpace {
  const fixed = recordedConfig(defaultConfig.env).config;
  const names = new Set(inner.params.map((p) => p.name));
  const settingsOf = (point: Point): NcclEnv => {
    const config = inner.toConfig(point);
    const settings: NcclEnv = {};
    for (const [k, v] of Object.entries(config && typeof config === 'object' ? (config as Record<string, Value>) : {})) {
      if (v !== undefined && v !== null) settings[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    }
    return settings;
  };
  const baseline = inner.fromConfig({}) ?? {};
  return {
    name: inner.name,
    params: inner.params,
    baseline,
    settingsOf,
    toConfig: (point) => ({ ...fixed, ...settingsOf(point) }),
    fromConfig(config) {
      if (!config || typeof config !== 'object' || Array.isArray(config)) return null;
      const recorded = config as Record<string, unknown>;
      if (canonicalJson(recorded) === canonicalJson(fixed)) return baseline;
      const rest: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(recorded)) {
        if (names.has(k)) rest[k] = v;
        else if (fixed[k] !== v) return null; // another base, or a variable this space does not vary
      }
      if (Object.keys(fixed).some((k) => !names.has(k) && recorded[k] === undefined)) return null;
      return inner.fromConfig(rest);
    },
    isValid(point) {
      if (inner.isValid && !inner.isValid(point)) return false;
      const settings = settingsOf(point);
      return input.allowInvalid || Object.keys(settings).length === 0 || !('reason' in plannedConfig(0, settings, input));
    },
  };
}
