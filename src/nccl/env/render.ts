/**
 * An NCCL environment in the forms a job script needs: shell export lines, a .env body, mpirun -x
 * arguments, an srun --export argument, or an nccl.conf body.
 */
import type { NcclEnv } from '../params/validate.js';

export const RENDER_FORMATS = ['export', 'dotenv', 'mpirun', 'srun', 'conf'] as const;
export type RenderFormat = (typeof RENDER_FORMATS)[number];

export interface Rendered {
  format: RenderFormat;
  /** Text to paste into a script or file. */
  text: string;
  /** Launcher arguments as an argv fragment (mpirun, srun); empty otherwise. */
  args: string[];
  notes: string[];
}

/** POSIX single-quoting, only when the value needs it. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./^-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function renderEnv(env: NcclEnv, format: RenderFormat, header?: string): Rendered {
  const entries = Object.entries(env).sort(([a], [b]) => a.localeCompare(b));
  switch (format) {
    case 'export':
      return { format, args: [], notes: [], text: lines(entries.map(([k, v]) => `export ${k}=${shellQuote(v)}`)) };
    case 'dotenv':
      return {
        format,
        args: [],
        notes: ['Values with spaces, quotes, "#" or "$" are double-quoted; docker --env-file takes quotes literally, so avoid such values there.'],
        text: lines(entries.map(([k, v]) => `${k}=${dotenvValue(v)}`)),
      };
    case 'mpirun': {
      const args = entries.flatMap(([k, v]) => ['-x', `${k}=${v}`]);
      return {
        format,
        args,
        notes: ['Open MPI exports each -x variable to every rank, remote nodes included.'],
        text: args.map((a, i) => (i % 2 ? shellQuote(a) : a)).join(' '),
      };
    }
    case 'srun':
      return renderSrun(entries);
    case 'conf':
      return { format, args: [], notes: confNotes(entries), text: confBody(env, header) };
  }
}

/**
 * srun --export is a comma list, so a value containing a comma (NCCL_ALGO="ring,tree") cannot be
 * written inline: such variables are named without a value, which makes srun pass the value it
 * finds in its own environment, and the export lines for them are returned as a note.
 */
function renderSrun(entries: [string, string][]): Rendered {
  const inline = entries.filter(([, v]) => !v.includes(','));
  const byName = entries.filter(([, v]) => v.includes(','));
  const arg = `--export=${['ALL', ...inline.map(([k, v]) => `${k}=${v}`), ...byName.map(([k]) => k)].join(',')}`;
  const notes = byName.length
    ? [`${byName.map(([k]) => k).join(', ')} contain commas, so --export names them without a value; export them in the shell that runs srun first: ${byName.map(([k, v]) => `export ${k}=${shellQuote(v)}`).join('; ')}`]
    : [];
  return { format: 'srun', args: [arg], notes, text: shellQuote(arg) };
}

/** nccl.conf: VAR=value lines (NCCL reads the rest of the line after '=' as the value), '#' comments. */
export function confBody(env: NcclEnv, header?: string): string {
  const entries = Object.entries(env).filter(([k]) => k.startsWith('NCCL_')).sort(([a], [b]) => a.localeCompare(b));
  const head = (header ?? '').split('\n').filter(Boolean).map((l) => `# ${l}`);
  return lines([...head, ...entries.map(([k, v]) => `${k}=${v}`)]);
}

function confNotes(entries: [string, string][]): string[] {
  const other = entries.filter(([k]) => !k.startsWith('NCCL_')).map(([k]) => k);
  const notes = ['NCCL reads nccl.conf only for variables not already set in the process environment.'];
  if (other.length) notes.push(`Left out of nccl.conf (not NCCL variables): ${other.join(', ')}.`);
  return notes;
}

function dotenvValue(v: string): string {
  return /^[^\s'"#$\\]*$/.test(v) ? v : `"${v.replace(/(["\\$`])/g, '\\$1')}"`;
}

function lines(list: string[]): string {
  return list.length ? `${list.join('\n')}\n` : '';
}
