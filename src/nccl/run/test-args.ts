/** The nccl-tests command line: flags from tool arguments, and the sizes it will measure. */
import { UserError } from '../../core/errors.js';

export const DATATYPES = ['int8', 'uint8', 'int32', 'uint32', 'int64', 'uint64', 'half', 'float', 'double', 'bfloat16', 'f8e4m3', 'f8e5m2', 'all'] as const;
export const OPS = ['sum', 'prod', 'min', 'max', 'avg', 'mulsum', 'all'] as const;

export interface TestFlags {
  min_bytes: string | number;
  max_bytes: string | number;
  step_factor?: number;
  step_bytes?: string | number;
  gpus_per_process: number;
  threads?: number;
  iters?: number;
  warmup_iters?: number;
  agg_iters?: number;
  check?: number;
  op?: (typeof OPS)[number];
  datatype?: (typeof DATATYPES)[number];
  root?: number;
  blocking?: number;
  cuda_graph?: number;
  average?: number;
  test_timeout_s?: number;
}

/** nccl-tests size syntax: an integer with an optional K/M/G suffix (x1024). */
export function parseSize(value: string | number, field: string): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0) return value;
  } else {
    const m = /^\s*(\d+)\s*([KMG])?B?\s*$/i.exec(value);
    if (m) return Number(m[1]) * 1024 ** (m[2] ? 'KMG'.indexOf(m[2].toUpperCase()) + 1 : 0);
  }
  throw new UserError(`${field} "${value}" is not a size.`, `Give bytes as an integer or with a K/M/G suffix (powers of 1024), e.g. "8", "64K", "128M", "1G".`);
}

/** The sizes nccl-tests will loop over (its own loop: multiply by -f, else add -i). */
export function plannedSizes(flags: TestFlags, limit = 4096): number[] {
  const min = parseSize(flags.min_bytes, 'min_bytes');
  const max = parseSize(flags.max_bytes, 'max_bytes');
  if (max < min) throw new UserError(`max_bytes (${max}) is below min_bytes (${min}).`, 'Swap them, or set max_bytes >= min_bytes.');
  const factor = flags.step_factor ?? 0;
  const step = flags.step_bytes !== undefined ? parseSize(flags.step_bytes, 'step_bytes') : 1024 * 1024;
  if (factor <= 1 && step <= 0 && max > min) throw new UserError('step_bytes must be > 0 when step_factor is not set.', 'Set step_factor (e.g. 2) or a positive step_bytes.');
  const sizes: number[] = [];
  for (let size = min; size <= max; size = factor > 1 ? size * factor : size + step) {
    sizes.push(size);
    if (sizes.length > limit) {
      throw new UserError(`min_bytes..max_bytes with this step gives more than ${limit} sizes.`, 'Use step_factor (e.g. 2) or a larger step_bytes.');
    }
    if (size === 0 && factor > 1) break; // 0 * factor never grows
  }
  return sizes;
}

/** Rows the run should print, when it can be known (not with -d all / -o all). */
export function expectedRows(flags: TestFlags): number | undefined {
  if (flags.datatype === 'all' || flags.op === 'all') return undefined;
  return plannedSizes(flags).length;
}

/** The flags part of the argv; -J is added by the caller when the binary supports it. */
export function buildTestArgs(flags: TestFlags): string[] {
  plannedSizes(flags); // validates the size range
  const args = ['-b', String(parseSize(flags.min_bytes, 'min_bytes')), '-e', String(parseSize(flags.max_bytes, 'max_bytes'))];
  if (flags.step_factor !== undefined) args.push('-f', String(flags.step_factor));
  else if (flags.step_bytes !== undefined) args.push('-i', String(parseSize(flags.step_bytes, 'step_bytes')));
  args.push('-g', String(flags.gpus_per_process));
  const optional: [string, number | string | undefined][] = [
    ['-t', flags.threads],
    ['-n', flags.iters],
    ['-w', flags.warmup_iters],
    ['-m', flags.agg_iters],
    ['-c', flags.check],
    ['-o', flags.op],
    ['-d', flags.datatype],
    ['-r', flags.root],
    ['-z', flags.blocking],
    ['-G', flags.cuda_graph],
    ['-a', flags.average],
    ['-T', flags.test_timeout_s],
  ];
  for (const [flag, value] of optional) if (value !== undefined) args.push(flag, String(value));
  return args;
}
