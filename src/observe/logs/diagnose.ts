/**
 * diagnose_logs' engine, main-thread side. The analysis runs in a worker thread (worker.ts): the
 * event loop stays free for other calls and cancellation, and cancelling terminates the worker
 * wherever it is. Files and text are read by the worker itself; journalctl and dmesg run here
 * (children belong to the main thread) and their lines are streamed to the worker in batches.
 * One deadline bounds the whole call: reading stops there and the answer says what was skipped.
 */
import { Worker } from 'node:worker_threads';
import type { Config } from '../../core/config.js';
import { UserError } from '../../core/errors.js';
import type { DiagnoseResult, Progress } from './analysis.js';
import { readDmesg, readJournal, type CommandOutcome } from './sources.js';
import type { FromWorker, ToWorker } from './worker.js';

export type { DiagnoseResult, SourceSummary, UnclassifiedPattern } from './analysis.js';

export interface DiagnoseRequest {
  text?: string;
  files: string[];
  journalKernel: boolean;
  journalUnits: string[];
  since?: string;
  until?: string;
  boot?: string;
  dmesg: boolean;
  /** A tuneloop job's log: its id (the source name) and path. */
  jobLog?: { id: string; path: string };
  maxBytes: number;
  journalLines: number;
  maxFindings: number;
  maxEvidence: number;
  maxUnclassified: number;
  windowS: number;
  /** Seconds the whole call may spend reading; default 30. */
  deadlineS?: number;
  bootTimeMs?: number;
  now?: number;
  onProgress?: Progress;
}

export const DEFAULT_DEADLINE_S = 30;
/** Lines from commands are sent to the worker in batches of about this many bytes. */
const BATCH_BYTES = 256 * 1024;

export async function diagnose(config: Config, req: DiagnoseRequest, signal?: AbortSignal): Promise<DiagnoseResult> {
  const deadline = Date.now() + (req.deadlineS ?? DEFAULT_DEADLINE_S) * 1000;
  const worker = new AnalysisWorker(signal, req.onProgress);
  try {
    const files = req.files.map((path, i) => ({ name: path, path, field: `files[${i}]` }));
    if (req.jobLog) files.push({ name: `job:${req.jobLog.id}`, path: req.jobLog.path, field: 'job_id' });
    await worker.request({ type: 'begin', plan: { text: req.text, files, maxBytes: req.maxBytes, deadline, maxEvidence: req.maxEvidence, bootTimeMs: req.bootTimeMs, now: req.now } }, 'ready');

    const stream = async (name: string, read: (sink: (line: string) => void, timeoutMs: number) => Promise<CommandOutcome>) => {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        worker.post({ type: 'end', source: name, notes: ['not read: the deadline passed before this source was reached'], skipped: [{ bytes: 0, reason: 'deadline_s: the deadline passed before this source was reached' }] });
        return;
      }
      let batch: string[] = [];
      let size = 0;
      const flush = () => {
        if (!batch.length) return;
        const data = Buffer.from(`${batch.join('\n')}\n`);
        worker.post({ type: 'bytes', source: name, data }, [data.buffer as ArrayBuffer]);
        batch = [];
        size = 0;
      };
      const outcome = await read((line) => {
        batch.push(line);
        size += line.length + 1;
        if (size >= BATCH_BYTES) flush();
      }, Math.max(1000, remaining));
      flush();
      worker.post({ type: 'end', source: name, notes: outcome.notes, skipped: outcome.timedOut ? [{ bytes: 0, reason: 'deadline_s: the command was stopped; later lines were not read' }] : [] });
    };
    const journal = { since: req.since, until: req.until, boot: req.boot, maxLines: req.journalLines };
    if (req.journalKernel) await stream('journal:kernel', (sink, t) => readJournal(config, { ...journal, kernel: true, units: [] }, sink, signal, t));
    if (req.journalUnits.length) await stream(`journal:${req.journalUnits.join(',')}`, (sink, t) => readJournal(config, { ...journal, kernel: false, units: req.journalUnits }, sink, signal, t));
    if (req.dmesg) await stream('dmesg', (sink, t) => readDmesg(config, sink, signal, t));

    const done = await worker.request({ type: 'finish', options: { maxFindings: req.maxFindings, maxEvidence: req.maxEvidence, maxUnclassified: req.maxUnclassified, windowS: req.windowS } }, 'result');
    return (done as Extract<FromWorker, { type: 'result' }>).result;
  } finally {
    await worker.close();
  }
}

const running = new Set<Worker>();
/** A worker kept after a diagnosis for the next one: loading the catalog and RE2 costs more than most logs. */
let idle: Worker | null = null;

/** Analysis worker threads busy or being stopped now (the one idle worker kept warm is not counted). */
export function runningAnalyses(): number {
  return running.size - (idle ? 1 : 0);
}

/**
 * The worker of one diagnosis. Cancelling, or a worker that crashed, terminates the thread; after
 * an answer or a refusal the worker is parked (unref'd) for the next diagnosis.
 */
class AnalysisWorker {
  private readonly worker: Worker;
  private failure: Error | null = null;
  private terminated = false;
  /** The worker finished its last message (an answer or a refusal): it can serve the next diagnosis. */
  private settled = false;
  private waiting: { type: string; resolve: (m: FromWorker) => void; reject: (e: Error) => void } | null = null;
  private readonly onAbort = () => this.fail(new UserError('diagnose_logs was cancelled.'), true);
  private readonly onMessage = (m: FromWorker) => {
    if (m.type === 'progress') this.onProgress?.(m);
    else if (m.type === 'error') {
      this.settled = m.userError;
      this.fail(m.userError ? new UserError(m.message, m.hint) : Object.assign(new Error(m.message), { stack: m.stack }), !m.userError);
    } else if (this.waiting?.type === m.type) {
      this.settled = m.type === 'result';
      this.waiting.resolve(m);
    }
  };
  private readonly onError = (error: Error) => this.fail(error, true);
  private readonly onExit = (code: number) => this.fail(new Error(`the log analysis worker exited (code ${code})`), true);

  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly onProgress: Progress | undefined,
  ) {
    this.worker = idle ?? spawnWorker();
    idle = null;
    this.worker.ref();
    this.worker.on('message', this.onMessage);
    this.worker.on('error', this.onError);
    this.worker.on('exit', this.onExit);
    if (signal?.aborted) this.onAbort();
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  post(message: ToWorker, transfer?: ArrayBuffer[]): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(message, transfer);
  }

  /** Send a message and wait for the worker's reply of the given type (or its failure). */
  async request(message: ToWorker, reply: FromWorker['type']): Promise<FromWorker> {
    this.post(message);
    const m = await new Promise<FromWorker>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.waiting = { type: reply, resolve, reject };
    });
    this.waiting = null;
    return m;
  }

  private fail(error: Error, terminate: boolean): void {
    if (terminate && !this.terminated) {
      this.terminated = true;
      void this.worker.terminate();
    }
    if (this.failure) return;
    this.failure = error;
    this.waiting?.reject(error);
  }

  async close(): Promise<void> {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.worker.off('message', this.onMessage);
    this.worker.off('error', this.onError);
    this.worker.off('exit', this.onExit);
    if (!this.terminated && this.settled && idle === null) {
      this.worker.unref();
      idle = this.worker;
      return;
    }
    if (!this.terminated) await this.worker.terminate();
  }
}

function spawnWorker(): Worker {
  const here = import.meta.url;
  const worker = here.endsWith('.ts')
    ? new Worker(new URL('./worker-from-source.mjs', here), { workerData: { entry: new URL('./worker.ts', here).href } })
    : new Worker(new URL('./worker.js', here));
  running.add(worker);
  worker.on('exit', () => {
    running.delete(worker);
    if (idle === worker) idle = null;
  });
  // A parked worker that fails is dropped; a busy one reports through its session's listener.
  worker.on('error', () => {});
  return worker;
}
