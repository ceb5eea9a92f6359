/** nccl_env: named NCCL environment profiles, rendered for job scripts or written as nccl.conf. */
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import { defineTool } from '../../core/tool.js';
import { writeConfFile } from '../env/conf-file.js';
import { deleteProfile, getProfile, listProfiles, resolveEnv, saveProfile } from '../env/profiles.js';
import { RENDER_FORMATS, confBody, renderEnv } from '../env/render.js';
import { validationSchema } from './params.js';
import { validateNcclEnv, type NcclEnv, type ValidationResult } from '../params/validate.js';

const ACTIONS = ['validate', 'save', 'list', 'show', 'delete', 'render', 'write_conf'] as const;

const profileSchema = z.object({
  name: z.string(),
  description: z.string(),
  env: z.record(z.string(), z.string()),
  nccl_version: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const ncclEnvTool = defineTool({
  name: 'nccl_env',
  toolset: 'nccl',
  title: 'NCCL environment profiles',
  description:
    'Manage named NCCL environment profiles and the nccl.conf files made from them. Profiles live in tuneloop\'s database: validate, save, list, show, delete; render one as shell export lines, a .env body, mpirun -x arguments, ' +
    'an srun --export argument or an nccl.conf body; or write_conf an nccl.conf to a path you name: a new file, or one tuneloop wrote there before (it is backed up first); never through a symlink, never another file; /etc/nccl.conf and ~/.nccl.conf need allow_system. ' +
    'Precedence: process environment > NCCL_CONF_FILE or ~/.nccl.conf > /etc/nccl.conf. The environment of processes already running cannot change: only newly started jobs see a new profile or file.',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  input: z.object({
    action: z.enum(ACTIONS).describe('validate | save | list | show | delete | render | write_conf.'),
    name: z.string().optional().describe('Profile name (save, show, delete; render/write_conf use it as the base for env).'),
    env: z.record(z.string(), z.string()).optional().describe('Variables, e.g. {"NCCL_ALGO":"Ring","NCCL_MIN_CTAS":"16"} (validate, save; over the profile for render/write_conf).'),
    description: z.string().max(2000).optional().describe('save: what the profile is for.'),
    replace: z.boolean().default(false).describe('save: overwrite an existing profile of that name.'),
    format: z.enum(RENDER_FORMATS).optional().describe('render: export | dotenv | mpirun | srun | conf.'),
    path: z.string().optional().describe('write_conf: absolute path (or ~/...) of the nccl.conf to write, e.g. "~/.nccl.conf" or "/shared/job/nccl.conf".'),
    allow_system: z.boolean().default(false).describe('write_conf: allow /etc/nccl.conf (read by every NCCL process of the host) or ~/.nccl.conf (read by every NCCL process of the user).'),
    nccl_version: z.string().regex(/^\d+\.\d+(\.\d+)?$/).optional().describe('NCCL release to validate against (e.g. "2.21.5").'),
  }),
  output: z.object({
    action: z.enum(ACTIONS),
    validation: validationSchema.optional(),
    profile: profileSchema.optional(),
    profiles: z.array(profileSchema).optional(),
    replaced: z.boolean().optional(),
    deleted: z.string().optional(),
    rendered: z.object({ format: z.enum(RENDER_FORMATS), text: z.string(), args: z.array(z.string()), notes: z.array(z.string()) }).optional(),
    written: z
      .object({
        path: z.string(),
        bytes: z.number(),
        backup: z.string().nullable(),
        unchanged: z.boolean(),
        precedence: z.string(),
        activation: z.string(),
        body: z.string(),
      })
      .optional(),
  }),
  async handler(args, { runtime }) {
    const store = runtime.store;
    const version = args.nccl_version;
    switch (args.action) {
      case 'validate':
        return { action: args.action, validation: validateNcclEnv(need(resolveEnv(store, args.name, args.env), 'env (or name)', 'validate'), { ncclVersion: version }) };
      case 'save': {
        const name = need(args.name, 'name', 'save');
        const { profile, validation, replaced } = saveProfile(store, { name, env: need(args.env, 'env', 'save'), description: args.description, ncclVersion: version, replace: args.replace });
        return { action: args.action, profile, validation, replaced };
      }
      case 'list':
        return { action: args.action, profiles: listProfiles(store) };
      case 'show': {
        const profile = getProfile(store, need(args.name, 'name', 'show'));
        return { action: args.action, profile, validation: validateNcclEnv(profile.env, { ncclVersion: version ?? profile.nccl_version ?? undefined }) };
      }
      case 'delete':
        return { action: args.action, deleted: deleteProfile(store, need(args.name, 'name', 'delete')).name };
      case 'render': {
        const format = need(args.format, 'format', 'render');
        const { env, validation } = validEnv(resolveEnv(store, args.name, args.env), version);
        return { action: args.action, validation, rendered: renderEnv(env, format, headerFor(args.name)) };
      }
      case 'write_conf': {
        const path = need(args.path, 'path', 'write_conf');
        const { env, validation } = validEnv(resolveEnv(store, args.name, args.env), version);
        const body = confBody(env, headerFor(args.name));
        const written = writeConfFile(store, path, body, { allowSystem: args.allow_system });
        return { action: args.action, validation, written: { ...written, body } };
      }
    }
  },
  summarize(r) {
    switch (r.action) {
      case 'list':
        return `${r.profiles!.length} profile(s): ${r.profiles!.map((p) => `${p.name} (${Object.keys(p.env).length} vars)`).join(', ') || 'none'}`;
      case 'delete':
        return `Deleted profile ${r.deleted}.`;
      case 'render':
        return [r.rendered!.text.trimEnd(), ...r.rendered!.notes].join('\n');
      case 'write_conf': {
        const w = r.written!;
        return [`${w.unchanged ? 'Unchanged' : 'Wrote'} ${w.path} (${w.bytes} bytes)${w.backup ? `; previous file backed up to ${w.backup}` : ''}.`, w.precedence, w.activation].join('\n');
      }
      default: {
        const v = r.validation;
        const head = r.profile ? `Profile ${r.profile.name}${r.action === 'save' ? (r.replaced ? ' replaced' : ' saved') : ''}: ${JSON.stringify(r.profile.env)}` : '';
        const check = v ? `${v.ok ? 'valid' : `${v.errors.length} error(s)`}, ${v.warnings.length} warning(s)${v.errors.length ? `: ${v.errors.map((e) => e.message).join(' ')}` : ''}` : '';
        return [head, check].filter(Boolean).join('\n');
      }
    }
  },
});

function need<T>(value: T | undefined, field: string, action: string): T {
  if (value === undefined || (typeof value === 'object' && value !== null && Object.keys(value).length === 0)) {
    throw new UserError(`action "${action}" needs ${field}.`, field === 'path' ? 'Pass path, e.g. "~/.nccl.conf".' : `Pass ${field}.`);
  }
  return value;
}

/** render and write_conf refuse configs with errors: a file NCCL half-ignores helps nobody. */
function validEnv(env: NcclEnv, ncclVersion: string | undefined): { env: NcclEnv; validation: ValidationResult } {
  if (Object.keys(env).length === 0) throw new UserError('Nothing to render: no profile name and no env given.', 'Pass name (a saved profile) and/or env.');
  const validation = validateNcclEnv(env, { ncclVersion });
  if (!validation.ok) {
    throw new UserError(`The config has errors: ${validation.errors.map((e) => e.message).join(' ')}`, 'Fix them first (nccl_env {action: "validate"} gives a suggestion for each).');
  }
  return { env: validation.normalized, validation };
}

function headerFor(name: string | undefined): string {
  return `Written by tuneloop${name ? ` from NCCL profile "${name}"` : ''}, ${new Date().toISOString()}.`;
}

