/**
 * Writes an nccl.conf where the caller names it, under core's rule for files outside the data dir
 * (core/target-files.ts: only a new file or one tuneloop wrote there, never through a symlink,
 * atomically, with a backup). /etc/nccl.conf and ~/.nccl.conf, which NCCL reads without being told,
 * need allow_system. The answer says which of NCCL's precedence rules the file will fall under.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../core/store.js';
import { writeTargetFile, type OptInFile } from '../../core/target-files.js';

export const SYSTEM_CONF = '/etc/nccl.conf';
export const USER_CONF = '~/.nccl.conf';
/** The first line of every nccl.conf tuneloop writes (confBody's header comment). */
export const CONF_HEADER = '# Written by tuneloop';

const OPT_IN: OptInFile[] = [
  { path: SYSTEM_CONF, flag: 'allow_system', reason: 'every NCCL process on this host reads it.' },
  { path: USER_CONF, flag: 'allow_system', reason: "every NCCL process of this user reads it (unless NCCL_CONF_FILE is set)." },
];

export interface ConfWriteResult {
  path: string;
  bytes: number;
  /** Where the previous file was copied, or null when there was none (or it was identical). */
  backup: string | null;
  /** The file already had exactly this content: nothing was written. */
  unchanged: boolean;
  /** Which NCCL precedence rule applies to this file. */
  precedence: string;
  /** What a process needs to pick the file up. */
  activation: string;
}

export interface ConfWriteOptions {
  allowSystem?: boolean;
  /** Home directory used for ~ and to recognise ~/.nccl.conf (default: this process's). */
  home?: string;
}

/** `body` must start with CONF_HEADER (confBody with a "Written by tuneloop ..." header). */
export function writeConfFile(store: Store, path: string, body: string, options: ConfWriteOptions = {}): ConfWriteResult {
  const home = options.home ?? homedir();
  const written = writeTargetFile(store, {
    path,
    body,
    header: CONF_HEADER,
    tool: 'nccl_env',
    home,
    optIn: OPT_IN,
    allowed: options.allowSystem ? ['allow_system'] : [],
  });
  return { ...written, ...precedenceOf(written.path, home) };
}

const RUNNING =
  'Processes already running keep the environment they started with: only NCCL processes started after this write read the file.';

/** NCCL loads NCCL_CONF_FILE (else ~/.nccl.conf), then /etc/nccl.conf, never overriding what is already set. */
export function precedenceOf(target: string, home: string): Pick<ConfWriteResult, 'precedence' | 'activation'> {
  if (target === SYSTEM_CONF) {
    return {
      precedence: 'Lowest: /etc/nccl.conf is read last, so the process environment and NCCL_CONF_FILE or ~/.nccl.conf all override it (process env > NCCL_CONF_FILE or ~/.nccl.conf > /etc/nccl.conf).',
      activation: `Applies to every NCCL process started on this host after now, for variables they do not set otherwise. ${RUNNING}`,
    };
  }
  if (target === join(home, '.nccl.conf')) {
    return {
      precedence: 'Middle: ~/.nccl.conf is read when NCCL_CONF_FILE is not set; the process environment overrides it and it overrides /etc/nccl.conf (process env > NCCL_CONF_FILE or ~/.nccl.conf > /etc/nccl.conf).',
      activation: `Applies to NCCL processes of this user (HOME=${home}) started after now that do not set NCCL_CONF_FILE. ${RUNNING}`,
    };
  }
  return {
    precedence: 'Middle, when selected: NCCL reads this file only if NCCL_CONF_FILE names it (and then skips ~/.nccl.conf); the process environment overrides it and it overrides /etc/nccl.conf (process env > NCCL_CONF_FILE or ~/.nccl.conf > /etc/nccl.conf).',
    activation: `Start jobs with NCCL_CONF_FILE=${target} in their environment. ${RUNNING}`,
  };
}
