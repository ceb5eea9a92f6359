import { UserError } from '../core/errors.js';

const UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/**
 * A point in time from an ISO 8601 timestamp ("2026-11-20T10:00:00Z") or an age ("30m", "24h",
 * "7d": that long before now). `field` names the argument in the error.
 */
export function parseTime(value: string | undefined, field: string, now = Date.now()): number | undefined {
  if (value === undefined || value === '') return undefined;
  const age = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(value.trim());
  if (age) return now - Number(age[1]) * UNITS[age[2]];
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new UserError(`${field}: "${value}" is neither an ISO 8601 time nor an age.`, `Use e.g. "2026-11-20T10:00:00Z" or "24h" / "7d" / "30m".`);
  }
  return ms;
}
