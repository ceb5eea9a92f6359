/** The sched toolset: sched_ext scheduler catalog, status, run/stop, custom builds, workload A/B benchmarks. */
import { benchmarkWorkloadTool } from './benchmark-tool.js';
import { buildSchedulerTool } from './build-tool.js';
import { runSchedulerTool, stopSchedulerTool } from './run-tools.js';
import { listSchedulersTool, schedStatusTool } from './status-tools.js';

export const schedTools = [schedStatusTool, listSchedulersTool, runSchedulerTool, stopSchedulerTool, buildSchedulerTool, benchmarkWorkloadTool];
