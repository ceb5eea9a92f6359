/**
 * The one registration list. Adding a tool touches its domain's tools.ts, this list (via that
 * domain's array), a test and a schema snapshot, nothing else.
 */
import type { ToolDefinition } from './core/tool.js';
import { jobTools } from './core/job-tools.js';
import { observeTools } from './observe/tools.js';
import { schedTools } from './sched/tools.js';
import { ncclTools } from './nccl/tools.js';
import { tritonTools } from './triton/tools.js';
import { historyTools } from './learn/tools.js';

export const allTools: ToolDefinition[] = [...observeTools, ...schedTools, ...ncclTools, ...tritonTools, ...historyTools, ...jobTools] as ToolDefinition[];
