/**
 * Writes an nccl.conf where the caller names it. The file is written atomically (temp file in the
 * same directory, fsync, rename), whatever was there is copied to a timestamped backup first, and
 * /etc/nccl.conf is refused unless the caller says allow_system. The answer says which of NCCL's
 * precedence rules the file will fall under.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, fsyncSync, lstatSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../../core/errors.js';

export const SYSTEM_CONF = '/etc/nccl.conf';

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
  /** Home directory used to recognise ~/.nccl.conf (default: this process's). */
  home?: string;
}

/** `~` expansion and absolute-path check; symlinked directories are resolved so /etc/nccl.conf cannot hide behind one. */
export function resolveConfPath(path: string, home: string): string {
  const expanded = path === '~' || path.startsWith('~/') ? join(home, path.slice(1)) : path;
  if (!isAbsolute(expanded)) {
    throw new UserError(`path "${path}" is not absolute.`, 'Give an absolute path (or ~/...), e.g. "/home/me/nccl.conf" or "~/.nccl.conf".');
  }
  const dir = dirname(resolve(expanded));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(`The directory ${dir} does not exist.`, `Create it first (mkdir -p ${dir}), or choose another path.`);
  }
  const realDir = realpathSync(dir);
  const target = join(realDir, basename(expanded));
  if (existsSync(target) && lstatSync(target).isSymbolicLink()) return realpathSync(target);
  return target;
}

export function writeConfFile(path: string, body: string, options: ConfWriteOptions = {}): ConfWriteResult {
  const home = options.home ?? homedir();
  const target = resolveConfPath(path, home);
  if (target === SYSTEM_CONF && !options.allowSystem) {
    throw new UserError(
      `Refusing to write ${SYSTEM_CONF}: it applies to every NCCL process on this host.`,
      'Pass allow_system: true if that is intended, or write a per-user file (~/.nccl.conf) or a file that jobs select with NCCL_CONF_FILE.',
    );
  }
  if (existsSync(target) && !statSync(target).isFile()) throw new UserError(`${target} exists and is not a regular file.`, 'Choose a file path.');
  const precedence = precedenceOf(target, home);
  const existed = existsSync(target);
  if (existed && readFileSync(target, 'utf8') === body) {
    return { path: target, bytes: Buffer.byteLength(body), backup: null, unchanged: true, ...precedence };
  }
  const backup = existed ? `${target}.bak-${new Date().toISOString().replace(/[:.]/g, '-')}` : null;
  if (backup) copyFileSync(target, backup);
  const temp = join(dirname(target), `.${basename(target)}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    const fd = openSync(temp, 'wx', existed ? statSync(target).mode & 0o777 : 0o644);
    try {
      writeSync(fd, body);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (error) {
    if (existsSync(temp)) unlinkSync(temp);
    throw new UserError(`Could not write ${target}: ${(error as Error).message}`, 'Check that the directory is writable by the user running tuneloop.', { cause: error });
  }
  return { path: target, bytes: Buffer.byteLength(body), backup, unchanged: false, ...precedence };
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
