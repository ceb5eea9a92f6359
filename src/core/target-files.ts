/**
 * The one rule for files a tool writes outside the data dir, at a path its input names (an
 * nccl.conf, ...). Every such write goes through `writeTargetFile`:
 * - `~` is expanded only at the start and `..` is resolved first; every check below applies to the
 *   resolved path, with symlinked directories resolved (`~/../../etc/passwd` is /etc/passwd).
 * - Only a new file, or a file tuneloop wrote there before, is written. "Wrote before" means: it
 *   starts with the tool's header AND its content hash is recorded in the store for that path, so
 *   a forged header does not count, and a file someone edited since is theirs now.
 * - The last component is never followed: a symlink there is refused; new files are created with
 *   O_EXCL|O_NOFOLLOW as a temp file in the same directory, fsynced, then linked into place (which
 *   fails rather than replace anything that appeared meanwhile); a replacement is renamed over the
 *   old file after a backup of it is written beside it.
 * - The FHS system hierarchies (/etc, /usr, /boot, ...) are refused, except the few files a tool
 *   names as opt-in (e.g. /etc/nccl.conf behind allow_system); those also need the opt-in flag.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fchownSync, fstatSync, fsyncSync, linkSync, lstatSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { UserError, quoteInput } from './errors.js';
import type { Migration, Store } from './store.js';

export const targetFileMigrations: Migration[] = [
  {
    version: 1,
    name: 'files tuneloop wrote outside the data dir',
    // Several hashes per path: a hash is recorded before its file lands, so a crash in between
    // never leaves the file on disk unrecognised; the older hashes stay recognisable for backups.
    up: `CREATE TABLE target_files (
      path TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      tool TEXT NOT NULL,
      written_at TEXT NOT NULL,
      PRIMARY KEY (path, sha256)
    );`,
  },
];

/** Directory trees that belong to the system (FHS): never written, except a tool's opt-in files. */
const SYSTEM_TREES = ['/etc', '/usr', '/boot', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/sys', '/dev', '/run', '/var/lib', '/var/spool', '/var/cache'];

export interface OptInFile {
  /** Absolute, or `~/...`. */
  path: string;
  /** The input flag that allows it, e.g. "allow_system". */
  flag: string;
  /** Why it needs the flag (who reads the file). */
  reason: string;
}

export interface TargetWriteRequest {
  /** The path as the caller gave it: absolute or starting with `~/`. */
  path: string;
  body: string;
  /** The first line every file of this kind starts with, e.g. "# Written by tuneloop". */
  header: string;
  /** The tool writing, recorded with the hash. */
  tool: string;
  /** Home directory for `~` (default: $HOME of the server). */
  home: string;
  /** Files that need an explicit flag; a system-tree file must be listed here to be writable at all. */
  optIn?: OptInFile[];
  /** Flags the caller set (names from `optIn`). */
  allowed?: string[];
}

export interface TargetWriteResult {
  /** The resolved path written. */
  path: string;
  bytes: number;
  /** Where the replaced file was copied, or null when nothing was replaced. */
  backup: string | null;
  /** The file already had exactly this content: nothing was written. */
  unchanged: boolean;
}

/** `~` expansion (at the start only), absolute check, `..` resolved, directories' symlinks resolved. */
export function resolveTargetPath(path: string, home: string): string {
  const expanded = path === '~' || path.startsWith('~/') ? join(home, path.slice(1)) : path;
  if (!isAbsolute(expanded)) {
    throw new UserError(`path "${quoteInput(path)}" is not absolute.`, 'Give an absolute path (or ~/...), e.g. "/home/me/job/nccl.conf" or "~/.nccl.conf".');
  }
  const lexical = resolve(expanded);
  const name = basename(lexical);
  if (!name) throw new UserError(`path "${quoteInput(path)}" names a directory, not a file.`, 'Give a file path.');
  const dir = dirname(lexical);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new UserError(`The directory ${quoteInput(dir)} does not exist.`, `Create it first (mkdir -p ${quoteInput(dir)}), or choose another path.`);
  return join(realpathSync(dir), name);
}

/** Write `body` at `request.path` under the rule above; UserErrors say why a path is refused. */
export function writeTargetFile(store: Store, request: TargetWriteRequest): TargetWriteResult {
  if (!request.body.startsWith(request.header)) throw new Error(`writeTargetFile: the body must start with its header "${request.header}"`);
  const target = resolveTargetPath(request.path, request.home);
  checkPolicy(target, request);
  const bytes = Buffer.byteLength(request.body);
  const existing = readExisting(target);
  if (existing) {
    checkWrittenByTuneloop(store, target, existing.content, request.header);
    if (existing.content.equals(Buffer.from(request.body))) return { path: target, bytes, backup: null, unchanged: true };
  }
  const temp = writeTemp(target, request.body, existing?.stats);
  try {
    record(store, target, request);
    if (!existing) {
      try {
        linkSync(temp, target); // fails with EEXIST instead of replacing whatever appeared meanwhile
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError(`${target} appeared while tuneloop was writing it; nothing was written.`, 'Look at what created it, then call again.');
        throw error;
      }
      syncDirectory(dirname(target));
      return { path: target, bytes, backup: null, unchanged: false };
    }
    const backup = writeBackup(target, existing.content, existing.stats);
    assertSameFile(target, existing.stats);
    renameSync(temp, target);
    syncDirectory(dirname(target));
    return { path: target, bytes, backup, unchanged: false };
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`Could not write ${target}: ${(error as Error).message}`, 'Check that the directory is writable by the user running tuneloop.', { cause: error });
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // already renamed into place
    }
  }
}

function checkPolicy(target: string, request: TargetWriteRequest): void {
  const optIn = (request.optIn ?? []).find((o) => resolveOptIn(o.path, request.home) === target);
  if (optIn) {
    if (!request.allowed?.includes(optIn.flag)) {
      throw new UserError(`Refusing to write ${target} without ${optIn.flag}: ${optIn.reason}`, `Pass ${optIn.flag}: true if that is intended, or write another file.`);
    }
    return;
  }
  const tree = SYSTEM_TREES.find((t) => target === t || target.startsWith(t + sep));
  if (tree) {
    throw new UserError(
      `Refusing to write ${target}: ${tree} belongs to the system, and tuneloop writes there only the files its tools name as opt-in${request.optIn?.length ? ` (${request.optIn.map((o) => o.path).join(', ')})` : ''}.`,
      'Write the file somewhere you own (your home, a job directory) and point the program at it.',
    );
  }
}

function resolveOptIn(path: string, home: string): string | null {
  try {
    return resolveTargetPath(path, home);
  } catch {
    return null;
  }
}

/** The current file at `target`, read without following a symlink; null when there is none. */
function readExisting(target: string): { content: Buffer; stats: Stats } | null {
  let stats: Stats;
  try {
    stats = lstatSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (stats.isSymbolicLink()) {
    throw new UserError(`Refusing to write ${target}: it is a symbolic link, and tuneloop never writes through one.`, 'Name the real file instead, or remove the link.');
  }
  if (!stats.isFile()) throw new UserError(`${target} exists and is not a regular file.`, 'Choose a file path.');
  const fd = openSync(target, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    return { content: readFileSync(fd), stats: fstatSync(fd) };
  } finally {
    closeSync(fd);
  }
}

function checkWrittenByTuneloop(store: Store, target: string, content: Buffer, header: string): void {
  const refuse = (why: string) =>
    new UserError(
      `Refusing to replace ${target}: ${why}. tuneloop replaces only files it wrote itself.`,
      `Move it away (mv ${target} ${target}.orig) or choose another path; then call again.`,
    );
  if (!content.subarray(0, Buffer.byteLength(header)).equals(Buffer.from(header))) throw refuse('tuneloop did not write it (no tuneloop header)');
  const known = store.statement('SELECT 1 FROM target_files WHERE path = ? AND sha256 = ?').get(target, sha256(content));
  if (!known) throw refuse('its content is not what tuneloop wrote there (it was edited, or written by another data dir)');
}

/** The new content in a temp file beside the target, created exclusively, never through a link. */
function writeTemp(target: string, body: string, replacing: Stats | undefined): string {
  const temp = join(dirname(target), `.${basename(target)}.tuneloop-${randomBytes(6).toString('hex')}`);
  writeExclusive(temp, Buffer.from(body), replacing);
  return temp;
}

function writeBackup(target: string, content: Buffer, stats: Stats): string {
  const backup = `${target}.bak-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
  writeExclusive(backup, content, stats);
  return backup;
}

/** Create `path` (it must not exist, not even as a link), write, fsync; keep a replaced file's mode and owner. */
function writeExclusive(path: string, content: Buffer, like: Stats | undefined): void {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const fd = openSync(path, flags, like ? like.mode & 0o7777 : 0o644);
  try {
    if (like && process.getuid?.() === 0) fchownSync(fd, like.uid, like.gid);
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(path);
    throw error;
  }
  closeSync(fd);
}

/** Between the check and the rename, the file must still be the one checked. */
function assertSameFile(target: string, checked: Stats): void {
  let now: Stats | null = null;
  try {
    now = lstatSync(target);
  } catch {
    // gone: fall through
  }
  if (!now || now.ino !== checked.ino || now.dev !== checked.dev || now.mtimeMs !== checked.mtimeMs || now.size !== checked.size) {
    throw new UserError(`${target} changed while tuneloop was replacing it; nothing was written.`, 'Look at what changed it, then call again.');
  }
}

function record(store: Store, target: string, request: TargetWriteRequest): void {
  store.write((db) =>
    db
      .prepare('INSERT OR IGNORE INTO target_files (path, sha256, bytes, tool, written_at) VALUES (?, ?, ?, ?, ?)')
      .run(target, sha256(Buffer.from(request.body)), Buffer.byteLength(request.body), request.tool, new Date().toISOString()),
  );
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}
