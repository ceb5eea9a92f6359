/**
 * Reading files as resource contents: MIME type from the extension, text or base64 blob, and
 * pages for large files. A resource read has no paging parameters in MCP, so the page is part of
 * the URI (`?offset=N`, in bytes); a paged answer ends with a line naming the next page's URI.
 * Files that fit in one page come back untouched.
 */
import { closeSync, fstatSync, lstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { extname, relative, resolve, sep } from 'node:path';
import { UserError } from '../core/errors.js';

export const PAGE_BYTES = 256 * 1024;

const MIME: Record<string, string> = {
  '.md': 'text/markdown',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.csv': 'text/csv',
  '.py': 'text/x-python',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.c': 'text/x-c',
  '.h': 'text/x-c',
  '.conf': 'text/plain',
  '.ptx': 'text/plain',
};

export function mimeType(path: string): string {
  return MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

const isText = (mime: string) => mime.startsWith('text/') || mime === 'application/json' || mime === 'application/yaml';

/** Split `path?offset=N` (what a `{+path}` template variable captures) into the path and the offset. */
export function splitOffset(raw: string): { path: string; offset: number } {
  const q = raw.indexOf('?');
  if (q < 0) return { path: decodeURIComponent(raw), offset: 0 };
  const offset = Number(new URLSearchParams(raw.slice(q + 1)).get('offset') ?? 0);
  if (!Number.isInteger(offset) || offset < 0) throw new UserError(`offset must be a whole number of bytes >= 0, got "${raw.slice(q + 1)}".`, 'Use the next-page URI the previous page ended with.');
  return { path: decodeURIComponent(raw.slice(0, q)), offset };
}

/**
 * The file `rel` inside `root`, refusing anything that leaves it (.., absolute paths, symlinks
 * pointing out) and anything that is not a regular file.
 */
export function fileInside(root: string, rel: string): string {
  const path = resolve(root, rel);
  const inside = (p: string, r: string) => p === r || p.startsWith(r.endsWith(sep) ? r : r + sep);
  if (rel.includes('\0') || !inside(path, resolve(root))) throw new UserError(`"${rel}" is outside ${root}.`, 'Use a path from resources/list.');
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new UserError(`No such file: ${rel}.`, 'Use a URI from resources/list.');
  }
  if (!inside(real, realpathSync(root)) || !lstatSync(real).isFile()) throw new UserError(`"${rel}" is not a regular file inside ${root}.`, 'Use a URI from resources/list.');
  return real;
}

export type ResourceContent = { uri: string; mimeType: string; text: string } | { uri: string; mimeType: string; blob: string };

/** One page of a file as resource contents; `baseUri` is the URI without ?offset. */
export function readFilePage(path: string, baseUri: string, offset: number): ResourceContent {
  const mime = mimeType(path);
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (offset > 0 && offset >= size) throw new UserError(`offset ${offset} is past the end of the file (${size} bytes).`, `Read ${baseUri} from the start.`);
    const length = Math.min(PAGE_BYTES, size - offset);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, offset);
    const uri = offset ? `${baseUri}?offset=${offset}` : baseUri;
    const more = offset + length < size;
    if (!isText(mime)) return { uri, mimeType: mime, blob: buffer.toString('base64') };
    // Cut at the last whole UTF-8 character so a page never ends mid-character.
    const end = more ? utf8Boundary(buffer, length) : length;
    const text = buffer.subarray(0, end).toString('utf8');
    const note = more || offset ? `\n[tuneloop: bytes ${offset}-${offset + end} of ${size}${more ? `; next page: ${baseUri}?offset=${offset + end}` : '; last page'}]` : '';
    return { uri, mimeType: mime, text: text + note };
  } finally {
    closeSync(fd);
  }
}

/** The largest prefix of buf[0, length) that ends on a whole UTF-8 character. */
function utf8Boundary(buf: Buffer, length: number): number {
  for (let i = length - 1; i >= Math.max(0, length - 4); i--) {
    const b = buf[i];
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + need > length ? i : length;
  }
  return length;
}

export function relativeUriPath(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}
