/** The observe toolset: the host, its GPUs, its logs and its metrics. */
import { systemSnapshotTool } from './snapshot-tool.js';
import { systemMonitorTool } from './system-tools.js';
import { diagnoseLogsTool } from './diagnose-tool.js';
import { gpuStatusTool } from './gpu-tool.js';
import { scrapeMetricsTool } from './metrics-tool.js';

export const observeTools = [systemSnapshotTool, systemMonitorTool, gpuStatusTool, diagnoseLogsTool, scrapeMetricsTool];
