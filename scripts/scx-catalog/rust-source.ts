/**
 * Just enough of a Rust reader to find clap's derive definitions: items carrying
 * `#[derive(Parser | Args | ValueEnum | Subcommand)]`, their doc comments, attributes and fields or
 * variants. It is a scanner, not a parser of Rust: it relies on rustfmt'ed sources (scx runs
 * rustfmt in CI) and is checked by the catalog it produces against real help texts.
 */

export interface Attribute {
  /** `clap`, `arg`, `command`, `value`, `derive`, ... */
  name: string;
  /** Top-level `key = value` pairs and bare keys (value `true`), in order. */
  args: [string, string][];
}

export interface Member {
  docs: string[];
  attrs: Attribute[];
  /** Field or variant name. */
  name: string;
  /** Field type (struct) or tuple payload (enum), as written. */
  type: string;
}

export interface ClapItem {
  kind: 'struct' | 'enum';
  name: string;
  docs: string[];
  attrs: Attribute[];
  derives: string[];
  members: Member[];
  file: string;
}

const CLAP_DERIVES = /\b(Parser|Args|ValueEnum|Subcommand)\b/;

/** Every clap-derived struct or enum in one file. */
export function clapItems(source: string, file: string): ClapItem[] {
  const items: ClapItem[] = [];
  const re = /^[ \t]*(?:pub(?:\([^)]*\))?\s+)?(struct|enum)\s+(\w+)/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    const { docs, attrs } = leadingDocsAndAttrs(source, m.index);
    const derives = attrs.filter((a) => a.name === 'derive').flatMap((a) => a.args.map(([k]) => k.replace(/^clap::/, '')));
    if (!derives.some((d) => CLAP_DERIVES.test(d))) continue;
    const open = source.indexOf('{', m.index);
    const semi = source.indexOf(';', m.index);
    if (open < 0 || (semi >= 0 && semi < open)) continue; // unit or tuple struct
    const close = matching(source, open);
    items.push({ kind: m[1] as 'struct' | 'enum', name: m[2], docs, attrs, derives, members: members(source.slice(open + 1, close)), file });
  }
  return items;
}

/** Doc comments and attributes written directly above position `at`. */
function leadingDocsAndAttrs(source: string, at: number): { docs: string[]; attrs: Attribute[] } {
  const lines = source.slice(0, at).split('\n');
  lines.pop(); // the partial line of the item itself
  const block: string[] = [];
  let depth = 0; // lines inside a multi-line attribute, read bottom-up
  while (lines.length) {
    const line = lines[lines.length - 1].trim();
    const closes = (line.match(/\]/g) ?? []).length - (line.match(/\[/g) ?? []).length;
    if (depth > 0 || line.startsWith('#[') || line.startsWith('///') || closes > 0) {
      depth = Math.max(0, depth + closes);
      block.unshift(lines.pop()!);
      continue;
    }
    break;
  }
  return members(`${block.join('\n')}\n__item__: (),`)[0] ?? { docs: [], attrs: [] };
}

/** Fields of a struct body or variants of an enum body. */
function members(body: string): Member[] {
  const out: Member[] = [];
  let docs: string[] = [];
  let attrs: Attribute[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i];
    if (/\s/.test(c) || c === ',') {
      i++;
    } else if (body.startsWith('///', i)) {
      const end = lineEnd(body, i);
      const text = body.slice(i + 3, end);
      docs.push(text.startsWith(' ') ? text.slice(1) : text);
      i = end;
    } else if (body.startsWith('//', i)) {
      i = lineEnd(body, i);
    } else if (body.startsWith('/*', i)) {
      i = body.indexOf('*/', i) + 2;
    } else if (body.startsWith('#[', i)) {
      const close = matching(body, i + 1);
      attrs.push(parseAttribute(body.slice(i + 2, close)));
      i = close + 1;
    } else {
      const end = topLevelEnd(body, i);
      const text = body.slice(i, end).trim().replace(/^pub(\([^)]*\))?\s+/, '');
      const field = /^(\w+)\s*:\s*([\s\S]+)$/.exec(text);
      const variant = /^(\w+)\s*(?:\(([\s\S]*)\)|\{[\s\S]*\})?\s*(?:=\s*[\s\S]+)?$/.exec(text);
      if (field) out.push({ docs, attrs, name: field[1], type: field[2].replace(/\s+/g, ' ').trim() });
      else if (variant) out.push({ docs, attrs, name: variant[1], type: variant[2]?.trim() ?? '' });
      docs = [];
      attrs = [];
      i = end + 1;
    }
  }
  return out;
}

function parseAttribute(text: string): Attribute {
  const m = /^([\w:]+)\s*(?:\(([\s\S]*)\))?\s*$/.exec(text.trim());
  if (!m) return { name: text.trim(), args: [] };
  const args: [string, string][] = [];
  for (const part of splitTopLevel(m[2] ?? '')) {
    const eq = findTopLevelEquals(part);
    if (eq < 0) args.push([part.trim(), 'true']);
    else args.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
  }
  return { name: m[1], args };
}

/** Split on commas outside brackets, strings and chars. */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = stringEnd(text, i);
    else if (c === "'" && text[i + 2] === "'") i += 2;
    else if ('([{<'.includes(c)) depth++;
    else if (')]}>'.includes(c) && !(c === '>' && text[i - 1] === '=')) depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

function findTopLevelEquals(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = stringEnd(text, i);
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === '=' && depth === 0 && text[i + 1] !== '=' && text[i - 1] !== '=' && text[i + 1] !== '>') return i;
  }
  return -1;
}

/** A Rust string literal's value ("..." with escapes); null when `text` is not one. */
export function stringLiteral(text: string): string | null {
  const m = /^"((?:[^"\\]|\\.)*)"$/s.exec(text.trim());
  if (!m) return null;
  return m[1].replace(/\\(["\\nt'])/g, (_, e: string) => ({ n: '\n', t: '\t' })[e] ?? e);
}

function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i;
}

function lineEnd(text: string, i: number): number {
  const end = text.indexOf('\n', i);
  return end < 0 ? text.length : end;
}

/** End of a field or variant: the next top-level comma, or the end of the body. */
function topLevelEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = stringEnd(text, i);
    else if ('([{<'.includes(c)) depth++;
    else if (')]}>'.includes(c) && !(c === '>' && text[i - 1] === '-')) depth--;
    else if (c === ',' && depth === 0) return i;
  }
  return text.length;
}

/** Index of the bracket closing the one at `open`. */
function matching(text: string, open: number): number {
  const pairs: Record<string, string> = { '{': '}', '[': ']', '(': ')' };
  const want = pairs[text[open]];
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = stringEnd(text, i);
    else if (text.startsWith('//', i)) i = lineEnd(text, i);
    else if (c === "'" && text[i + 2] === "'") i += 2;
    else if (c === text[open]) depth++;
    else if (c === want && --depth === 0) return i;
  }
  throw new Error(`unbalanced ${text[open]} at ${open}`);
}
