/** Output schemas of the statistics every tool reports (src/learn/stats.ts), defined once. */
import { z } from 'zod';

export const directionSchema = z
  .enum(['lower', 'higher'])
  .describe('Which way is better for the metric: "lower" (latency, time) or "higher" (throughput, bandwidth).');

export const summarySchema = z.object({
  n: z.number().int(),
  mean: z.number().nullable(),
  median: z.number().nullable(),
  stdev: z.number().nullable(),
  cv: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
});

/** stats.compare()'s answer: b against baseline a. */
export const comparisonSchema = z.object({
  metric: z.string(),
  direction: directionSchema,
  a: summarySchema,
  b: summarySchema,
  difference: z.number().nullable().describe('median(b) - median(a).'),
  relative_change: z.number().nullable().describe('(median(b) - median(a)) / |median(a)|.'),
  ci95: z.tuple([z.number(), z.number()]).nullable().describe('Bootstrap 95% CI of median(b) - median(a).'),
  p_value: z.number().nullable(),
  test: z.enum(['mann-whitney exact', 'mann-whitney normal', 'none']),
  verdict: z.enum(['better', 'worse', 'no significant difference']),
  explanation: z.string(),
  additional_runs_per_group: z.number().int().nullable(),
});
