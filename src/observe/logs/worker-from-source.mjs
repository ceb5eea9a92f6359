// Runs worker.ts from the TypeScript sources (tests import src/ directly): register tsx in this
// worker thread first. Built code never uses this file: it runs dist/observe/logs/worker.js.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
