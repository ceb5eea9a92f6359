/**
 * The analysis worker: log analysis runs here, off the server's event loop, so the server keeps
 * answering other calls and cancellations while a large log is read, and a cancelled diagnosis
 * ends by terminating this thread. Messages: begin (plan: open the files, read text and files),
 * bytes/end (a streamed source from the main thread), finish (the answer).
 */
import { parentPort } from 'node:worker_threads';
import { isUserError } from '../../core/errors.js';
import { Analysis, type AnalysisPlan, type FinishOptions } from './analysis.js';
import type { Skipped } from './files.js';

export type ToWorker =
  | { type: 'begin'; plan: AnalysisPlan }
  | { type: 'bytes'; source: string; data: Uint8Array }
  | { type: 'end'; source: string; notes: string[]; skipped: Skipped[] }
  | { type: 'finish'; options: FinishOptions };

export type FromWorker =
  | { type: 'progress'; done: number; total: number; message: string }
  | { type: 'ready' }
  | { type: 'result'; result: ReturnType<Analysis['finish']> }
  | { type: 'error'; userError: boolean; message: string; hint?: string; stack?: string };

const port = parentPort!;
let analysis: Analysis | undefined;
const post = (message: FromWorker) => port.postMessage(message);

port.on('message', (message: ToWorker) => {
  try {
    if (message.type === 'begin') {
      analysis?.close();
      analysis = Analysis.open(message.plan);
      analysis.readInputs((p) => post({ type: 'progress', ...p }));
      post({ type: 'ready' });
    } else if (message.type === 'bytes') analysis!.feed(message.source, Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength));
    else if (message.type === 'end') analysis!.end(message.source, message.notes, message.skipped);
    else {
      post({ type: 'result', result: analysis!.finish(message.options) });
      analysis!.close();
    }
  } catch (error) {
    analysis?.close();
    const e = error as Error & { hint?: string };
    post({ type: 'error', userError: isUserError(error), message: e.message ?? String(error), hint: e.hint, stack: e.stack });
  }
});
