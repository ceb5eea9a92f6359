/**
 * What a sweep hands to the training job, written into the job directory: the overall winner as
 * an nccl.conf (and optionally a saved profile), and the per-size choices as the example tuner
 * plugin's CSV (see tuner-csv.ts for the plugin's rules the CSV follows).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../core/errors.js';
import type { JobContext } from '../../core/jobs.js';
import type { Store } from '../../core/store.js';
import { saveProfile } from '../env/profiles.js';
import { confBody } from '../env/render.js';
import { ncclCollectiveOf } from '../params/lists.js';
import { recordedConfig } from '../run/env.js';
import type { SweepResult } from '../schemas.js';
import { sizeStandings, type Standing, type Trial } from './ranking.js';
import type { SweepPlan } from './plan.js';
import { csvRanges, tunerChoice, tunerCsv, type SizeLine } from './tuner-csv.js';

export interface ExportInput {
  plan: SweepPlan;
  collective: string;
  trials: Trial[];
  winner: Standing | null;
  minGain: number;
  topology: { nodes: number | null; ranks: number | null };
  saveProfile?: string;
  /** Whether a standing with these runs per side is contradicted by compare(). */
  refuted: (s: { n: number; verdict: string }, defaultN: number) => boolean;
}

export function exportSweep(store: Store, job: Pick<JobContext, 'id' | 'dir'>, input: ExportInput, notes: string[]): SweepResult['exports'] {
  const header = `Written by tuneloop nccl_sweep (job ${job.id}) for ${input.collective}, ${new Date().toISOString()}.`;
  const { ncclConf, savedProfile } = exportWinner(store, job, input, header, notes);
  const tunerCsvExport = exportTunerCsv(job, input, header, notes);
  return { tuner_csv: tunerCsvExport, nccl_conf: ncclConf, saved_profile: savedProfile, notes };
}

function exportWinner(store: Store, job: Pick<JobContext, 'id' | 'dir'>, input: ExportInput, header: string, notes: string[]) {
  const { winner } = input;
  if (!winner) {
    notes.push(`No config beat the default by at least ${pct(input.minGain)} on the objective: no nccl.conf written.`);
    return { ncclConf: null, savedProfile: null };
  }
  const env = recordedConfig(input.plan.configs[winner.config_index].env).config;
  const body = confBody(env, `${header}\nOverall winner: ${winner.label}, ${pct(winner.margin_vs_default)} bus bandwidth over the untuned default (${confidence(winner)}).`);
  const path = join(job.dir, 'nccl.conf');
  writeFileSync(path, body);
  let savedProfile: string | null = null;
  if (input.saveProfile) {
    try {
      saveProfile(store, { name: input.saveProfile, env, description: `nccl_sweep ${job.id} winner: ${winner.label} (${pct(winner.margin_vs_default)} over default)` });
      savedProfile = input.saveProfile;
    } catch (error) {
      notes.push(`The winner was not saved as profile "${input.saveProfile}": ${errorMessage(error)}`);
    }
  }
  return { ncclConf: { path, body }, savedProfile };
}

/**
 * One line per measured size: the best config the CSV can express if it beats the default by
 * min_gain (and enough repeats do not refute it), else the default's own choice. Sizes where
 * neither is known get no line, and the notes say what the plugin then does.
 */
function exportTunerCsv(job: Pick<JobContext, 'dir'>, input: ExportInput, header: string, notes: string[]): SweepResult['exports']['tuner_csv'] {
  const { plan, trials } = input;
  const collective = ncclCollectiveOf(input.collective);
  if (!collective) {
    notes.push(`NCCL's example tuner plugin tunes broadcast, reduce, allgather, reducescatter and allreduce only: no CSV for ${input.collective}.`);
    return null;
  }
  const defaultConfig = plan.configs[0];
  const okRuns = (index: number) => trials.filter((t) => t.config === index && t.status === 'ok').length;
  const eligible = sizeStandings(plan.configs, trials, (c, size) => tunerChoice(c, collective, trials, size) !== null);
  const lines = new Map<number, SizeLine>();
  const uncovered: number[] = [];
  let tuned = 0;
  for (const s of eligible) {
    const wins = s.winner_index !== 0 && s.margin_vs_default !== null && s.margin_vs_default >= input.minGain && !input.refuted({ n: okRuns(s.winner_index), verdict: s.verdict }, okRuns(0));
    const config = wins ? plan.configs[s.winner_index] : defaultConfig;
    const choice = tunerChoice(config, collective, trials, s.bytes);
    if (!choice) {
      uncovered.push(s.bytes);
      continue;
    }
    if (wins) tuned++;
    lines.set(s.bytes, { size: s.bytes, choice, source: config.label, margin_vs_default: wins ? s.margin_vs_default : 0 });
  }
  if (tuned === 0) {
    notes.push('No size had a config the tuner CSV can express (one algorithm and protocol, channels pinned or logged) beating the default: no CSV written.');
    return null;
  }
  const ranges = csvRanges(eligible.map((s) => s.bytes), lines);
  const body = tunerCsv(
    collective,
    ranges,
    input.topology,
    `${header}\nEach line pins the algorithm, protocol and channel count in force when its sizes were measured (per-size winners; the default's own choices where it won).\nnNodes/nRanks are the measured topology. Use: NCCL_TUNER_PLUGIN=<libnccl-tuner-example.so> NCCL_TUNER_CONFIG_FILE=<this file>.`,
  );
  const path = join(job.dir, 'nccl_tuner.csv');
  writeFileSync(path, body);
  notes.push(
    `Tuner CSV: ${tuned} of ${eligible.length} measured sizes tuned${tuned + uncovered.length < eligible.length ? ', the others pinned to the default\'s own choice' : ''}; the first line starts at 0 and the last reaches 18446744073709551615 (2^64-1), extending the smallest and largest measurements.`,
    `NCCL's example tuner plugin runs every ${collective} size and every other collective it has no line for on ONE channel (it sets nChannels=1 before matching): load it only for jobs this CSV covers.`,
  );
  if (uncovered.length) {
    notes.push(
      `No line for ${uncovered.length} size(s) (${uncovered.slice(0, 6).join(', ')}${uncovered.length > 6 ? ' ...' : ''}): the channel count in force there is unknown (run the sweep with log_nccl_choices: true so NCCL logs it). With the example plugin those sizes would run on one channel.`,
    );
  }
  return { path, body, ranges: ranges.length };
}

/** How far to trust a winner (the caller already dropped those enough repeats refute). */
export function confidence(s: Standing): string {
  return s.verdict === 'better' ? `confirmed by compare() over ${s.n} runs each` : `not confirmed: ${s.n} run(s); about 4 repeats per config let compare() decide`;
}

export function pct(x: number | null): string {
  return x === null ? '?' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
}
