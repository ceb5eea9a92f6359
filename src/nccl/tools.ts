/** The nccl toolset: parameter space, environment profiles, nccl-tests runs and sweeps. */
import { ncclEnvTool } from './tools-env.js';
import { ncclParamsTool } from './tools-params.js';
import { runNcclTestsTool } from './tools-run.js';
import { ncclSweepTool } from './tools-sweep.js';

export const ncclTools = [ncclParamsTool, ncclEnvTool, runNcclTestsTool, ncclSweepTool];
