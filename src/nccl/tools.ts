/**
 * The nccl toolset: parameter space, environment profiles, nccl-tests runs and sweeps. The tool
 * definitions live in tools/; params/, run/, output/, sweep/ and env/ hold the logic they call.
 */
import { ncclEnvTool } from './tools/env.js';
import { ncclParamsTool } from './tools/params.js';
import { runNcclTestsTool } from './tools/run.js';
import { ncclSweepTool } from './tools/sweep.js';

export const ncclTools = [ncclParamsTool, ncclEnvTool, runNcclTestsTool, ncclSweepTool];
