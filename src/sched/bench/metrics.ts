/** Metrics a workload reports in its own output: a regex capture, or a key in its last JSON line. */
import { UserError } from '../../core/errors.js';

export interface MetricParser {
  name: string;
  describe: string;
  parse(output: string): number | null;
}

/** The last match of `pattern`; the value is the named group `value`, else the first group. */
export function regexParser(name: string, pattern: string): MetricParser {
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'gm');
  } catch (error) {
    throw new UserError(`metric_regex is not a valid regular expression: ${(error as Error).message}`, 'e.g. "throughput: ([0-9.]+)" or "(?<value>[0-9.]+) ops/s".');
  }
  // Matching the empty alternative reveals how many capture groups the pattern has.
  if (new RegExp(`(?:${pattern})|`).exec('')!.length < 2) {
    throw new UserError('metric_regex needs a capture group around the number.', 'e.g. "latency p99: ([0-9.]+) ms".');
  }
  return {
    name,
    describe: `regex ${pattern}`,
    parse(output) {
      let value: number | null = null;
      for (const m of output.matchAll(re)) {
        const text = m.groups?.value ?? m[1];
        const n = Number(text);
        if (text !== undefined && text.trim() !== '' && Number.isFinite(n)) value = n;
      }
      return value;
    },
  };
}

/** `key` is a dotted path ("latency.p99") into the last line of output that parses as a JSON object. */
export function jsonParser(name: string, key: string): MetricParser {
  if (!/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/.test(key)) throw new UserError(`metric_json_key "${key}" is not a dotted path.`, 'e.g. "throughput" or "latency.p99".');
  return {
    name,
    describe: `JSON key ${key}`,
    parse(output) {
      const lines = output.trim().split('\n').reverse();
      for (const line of lines) {
        const text = line.trim();
        if (!text.startsWith('{')) continue;
        try {
          let value: unknown = JSON.parse(text);
          for (const part of key.split('.')) value = (value as Record<string, unknown> | null)?.[part];
          return typeof value === 'number' && Number.isFinite(value) ? value : null;
        } catch {
          continue;
        }
      }
      return null;
    },
  };
}
