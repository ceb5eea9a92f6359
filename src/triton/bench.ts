/**
 * The bench: rounds of timed calls, the baseline in the trusted process and the candidate in its
 * sandbox, alternating which goes first (BC, CB, BC...), each round on fresh inputs from a seed
 * drawn here (tlharness/rounds.py). The candidate's processes are stopped while the baseline runs.
 *
 * The bench is a check too: after each candidate round the server picks calls to reveal (one at
 * random and always the last), the candidate's process hands over their outputs, and the trusted
 * process compares them, and the sketch of every timed call, with the baseline's
 * (tlharness/benchjudge.py). A mismatch makes the verdict `incorrect`.
 */
import { randomInt } from 'node:crypto';
import { basename, join } from 'node:path';
import { median } from 'simple-statistics';
import { z } from 'zod';
import { freezeTree } from './isolation.js';
import { SessionEnded, type HarnessSession, type Reply } from './session.js';
import { roundReplySchema, summarizeTiming, type RoundSample, type Timing } from './timing.js';

/**
 * Calls per round: enough for the baseline to spend about rep_ms of wall time per round (calls and
 * their untimed overhead), resized after each of its rounds, so a loaded machine makes rounds of
 * fewer calls rather than longer rounds; within what one reply line carries.
 */
const MIN_CALLS = 5;
const MAX_CALLS = 400;
const MAX_SKETCH_CELLS = 1200;
const REVEALED_AT_RANDOM = 1;

export interface BenchRequest {
  rounds: number;
  warmupMs: number;
  repMs: number;
  /** Output leaves per call (sizes the replies). */
  leaves: number;
  outDir: string;
  /** The whole bench must end by then (ms since the epoch); the process is killed otherwise. */
  deadline: number;
  device: string;
  progress: (message: string) => void;
}

export interface BenchOutcome {
  timing: Timing | null;
  /** Problems the trusted process found in what the timed calls returned. */
  problems: string[];
  /** The candidate's patched functions seen during the rounds. */
  patched: string[];
  /** Why the bench stopped early (a crash, a timeout, a malformed reply): the candidate failed. */
  failure: string | null;
}

const candidateRoundSchema = roundReplySchema.extend({
  sketches: z.array(z.array(z.array(z.union([z.number(), z.string()])))),
  signatures: z.record(z.string(), z.number()),
  patched: z.array(z.string()),
});

export async function runBench(trusted: HarnessSession, candidate: HarnessSession, r: BenchRequest): Promise<BenchOutcome> {
  const remaining = () => Math.max(1000, r.deadline - Date.now());
  const outcome: BenchOutcome = { timing: null, problems: [], patched: [], failure: null };
  const baselineRounds: RoundSample[] = [];
  const candidateRounds: RoundSample[] = [];
  try {
    const warmSeed = randomInt(2 ** 31);
    const ask = (cmd: string, body: Record<string, unknown>) => trusted.request(cmd, body, remaining()).catch(trustedFailed);
    const base = await frozen(candidate, () => ask('warmup', { seed: warmSeed, ms: r.warmupMs }));
    await candidate.request('warmup', { seed: warmSeed, ms: r.warmupMs }, remaining());
    const limit = Math.min(MAX_CALLS, Math.floor(MAX_SKETCH_CELLS / Math.max(1, r.leaves)));
    const size = (perIterationMs: number) => Math.max(MIN_CALLS, Math.min(limit, Math.ceil(r.repMs / Math.max(perIterationMs || 1e-3, 1e-3))));
    let n = size(Number(base.per_iteration_ms));
    const counts: number[] = [];
    for (let index = 0; index < r.rounds; index++) {
      r.progress(`bench round ${index + 1}/${r.rounds} (${n} calls per side)`);
      counts.push(n);
      const seed = randomInt(2 ** 31);
      const runBaseline = async () => {
        const { reply, wall } = await frozen(candidate, () => timed(() => ask('round', { seed, index, n })));
        const parsed = roundReplySchema.safeParse(reply);
        if (!parsed.success) trustedFailed(parsed.error);
        baselineRounds.push({ times_ms: parsed.data.times_ms, host_ms: parsed.data.host_ms, wall_ms: wall, setup_ms: parsed.data.setup_ms ?? 0 });
      };
      let claimed: z.infer<typeof candidateRoundSchema> | null = null;
      const runCandidate = async () => {
        const { reply, wall } = await timed(() => candidate.request('round', { seed, index, n }, remaining()));
        const parsed = candidateRoundSchema.safeParse(reply);
        if (!parsed.success || parsed.data.times_ms.length !== n || parsed.data.sketches.length !== n) {
          throw new BenchFailure(`the candidate's process answered round ${index} with a malformed reply (${parsed.success ? `${parsed.data.times_ms.length} times for ${n} calls` : parsed.error.issues[0]?.message})`);
        }
        claimed = parsed.data;
        candidateRounds.push({ times_ms: parsed.data.times_ms, host_ms: parsed.data.host_ms, wall_ms: wall });
      };
      if (index % 2 === 0) {
        await runBaseline();
        await runCandidate();
      } else {
        await runCandidate();
        await runBaseline();
      }
      const round = claimed as unknown as z.infer<typeof candidateRoundSchema>;
      const last = baselineRounds[baselineRounds.length - 1];
      outcome.patched = [...new Set([...outcome.patched, ...round.patched])];
      const iterations = pickReveals(n);
      const revealed = await candidate.request('reveal', { index, iterations }, remaining());
      const file = join(r.outDir, basename(String(revealed.file ?? `round${index}.pt`)));
      const judged = await ask('judge_round', { index, candidate: { sketches: round.sketches, signatures: round.signatures }, file, iterations });
      outcome.problems.push(...((judged.problems as string[]) ?? []));
      n = size(Math.max(last.wall_ms - (last.setup_ms ?? 0), 0) / n);
    }
    outcome.timing = summarizeTiming({ device: r.device, method: String(base.method), label: String(base.label), n: Math.round(median(counts)) }, baselineRounds, candidateRounds);
  } catch (error) {
    if (!(error instanceof Error) || error instanceof TrustedFailed) throw error;
    outcome.failure = error.message;
  }
  return outcome;
}

class BenchFailure extends Error {}

/** The trusted process ended (or said nonsense) mid-bench: the verify could not be done, the
 * candidate is not to blame. Running past the bench's deadline stays the bench's failure. */
class TrustedFailed extends Error {}

function trustedFailed(error: unknown): never {
  if (error instanceof SessionEnded && error.reason === 'timeout') throw error;
  throw new TrustedFailed(`the trusted process failed during the bench: ${error instanceof Error ? error.message : String(error)}`);
}

/** REVEALED_AT_RANDOM distinct calls at random among the first n-1, and always the last. */
function pickReveals(n: number): number[] {
  const picks = new Set<number>();
  while (picks.size < Math.min(REVEALED_AT_RANDOM, n - 1)) picks.add(randomInt(n - 1));
  return [...picks, n - 1].sort((a, b) => a - b);
}

async function timed(fn: () => Promise<Reply>): Promise<{ reply: Reply; wall: number }> {
  const started = performance.now();
  const reply = await fn();
  return { reply, wall: performance.now() - started };
}

/** Run fn (the baseline being timed) with the candidate's whole sandbox stopped. */
async function frozen<T>(candidate: HarnessSession, fn: () => Promise<T>): Promise<T> {
  const thaw = freezeTree(candidate.pid);
  try {
    return await fn();
  } finally {
    thaw();
  }
}
