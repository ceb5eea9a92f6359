/**
 * A search space as tools take it: suggest_config and the adaptive modes of the execution tools
 * (nccl_sweep) accept the same parameter objects and resolve them the same way.
 */
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import { namedSpace, type NamedSpaceOptions } from './named-spaces.js';
import { explicitSpace, type ParamSpec, type Space } from './space.js';

const value = z.union([z.string().max(200), z.number(), z.boolean()]);

export const spaceParamInput = z.strictObject({
  name: z.string().min(1).max(100).describe('Parameter name: a config key (explicit space), a scheduler flag such as "--slice-us", or an NCCL variable.'),
  type: z.enum(['int', 'float', 'categorical', 'bool']).optional().describe('Explicit space: required. Named space: leave out (the table knows).'),
  min: z.number().optional().describe('int/float: lower bound (named space: narrows the table\'s range).'),
  max: z.number().optional().describe('int/float: upper bound.'),
  log: z.boolean().optional().describe('int/float: search on a log scale (bounds > 0).'),
  choices: z.array(value).max(256).optional().describe('categorical: the values (named space: a subset of what the parameter accepts; a numeric one becomes a choice among them).'),
  default: value.optional().describe('The value in effect when nothing is set; tried first.'),
});

export type SpaceParamInput = z.infer<typeof spaceParamInput>;

/** A named space (with params as refinements) or an explicit one (params with types). */
export function spaceFrom(name: string | undefined, params: SpaceParamInput[] | undefined, variables: string[] | undefined, options: NamedSpaceOptions = {}): Space {
  if (name) return namedSpace(name, variables, params ?? [], options);
  if (!params?.length) throw new UserError('No space: pass space ("sched:<scheduler>" or "nccl") or params.', 'e.g. params: [{"name": "threads", "type": "int", "min": 1, "max": 8}, {"name": "level", "type": "int", "min": 1, "max": 19}].');
  if (variables?.length) throw new UserError('variables applies to named spaces only.', 'List the parameters in params instead.');
  const missing = params.find((p) => !p.type);
  if (missing) throw new UserError(`Parameter "${missing.name}" has no type.`, 'Give type: int, float, categorical or bool.');
  return explicitSpace(params as ParamSpec[]);
}
