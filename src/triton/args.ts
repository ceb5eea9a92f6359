/** Tool arguments shared by the Triton tools (the same words mean the same thing everywhere). */
import { z } from 'zod';

export const caseArg = z.string().describe('Case name, as listed by triton_cases {"action": "list"}.');
export const casesDirArg = z.string().optional().describe('An extra folder of cases, searched first (after it: TUNELOOP_CASES, <data dir>/cases, the built-in examples).');
export const candidateArg = z.string().optional().describe('The candidate module source: defines ModelNew (same constructor as the reference, same parameter names) or a function named by entry. Give this or candidate_path.');
export const candidatePathArg = z.string().optional().describe('Path of a candidate .py file to read instead of candidate (e.g. a path listed by triton_cases show).');
export const entryArg = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('ModelNew').describe('The class (built with the reference\'s init_kwargs, then given its weights) or function to call.');
export const deviceArg = z.enum(['auto', 'cpu', 'cuda']).default('auto').describe('auto: the case\'s preference when available (cuda falls back to cpu, and says so).');
export const interpretArg = z.boolean().default(false).describe('Run Triton kernels with TRITON_INTERPRET=1 on the CPU, in the same sandbox, on every shape of the manifest: correctness only, never timed. Needs triton installed.');
export const seedsArg = z.number().int().min(2).max(16).default(5).describe('Input seeds (each a fresh draw; seeds cycle through the case\'s distributions).');
