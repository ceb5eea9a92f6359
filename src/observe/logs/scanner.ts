/**
 * Where any of a set of literals occurs in a text, in one pass that skips ahead (Wu-Manber: a
 * table of how far each three-character block allows the window to move). With literals of length m
 * the scan looks at about one position in m-1, so a multi-megabyte chunk costs far less than one
 * regex pass; only positions where a literal's first m characters end are compared in full. This
 * is the prefilter that lets most log lines cost nothing beyond this scan.
 */

/** Literals shorter than this are found with indexOf: they would shorten every skip of the others. */
const SKIP_WINDOW = 8;

export class LiteralScanner {
  /** Window length: the shortest long literal. */
  private readonly m: number;
  /** Literals shorter than SKIP_WINDOW. */
  private readonly short: string[];
  /** Block hash -> how far the window may move when its last three characters hash there. */
  private readonly shift: Uint8Array;
  /** Block hash -> whether some literal starts with that block: a cheap second test before comparing. */
  private readonly starts = new Uint8Array(1 << 16);
  /** Block hash -> literals whose first m characters end with that block. */
  private readonly candidates = new Map<number, string[]>();
  /** Positions of hits of the last scan, ascending (reused between scans). */
  private positions = new Int32Array(1024);

  constructor(literals: string[]) {
    const all = [...new Set(literals)];
    if (all.length === 0 || all.some((l) => l.length < 2)) throw new Error('scanner literals must have at least 2 characters');
    this.short = all.filter((l) => l.length < SKIP_WINDOW);
    const unique = all.filter((l) => l.length >= SKIP_WINDOW);
    this.m = Math.min(255, ...unique.map((l) => l.length));
    const m = this.m;
    this.shift = new Uint8Array(1 << 16).fill(m - 2);
    for (const lit of unique) {
      for (let j = 2; j < m; j++) {
        const h = blockHash(lit.charCodeAt(j - 2), lit.charCodeAt(j - 1), lit.charCodeAt(j));
        this.shift[h] = Math.min(this.shift[h], m - 1 - j);
      }
      this.starts[blockHash(lit.charCodeAt(0), lit.charCodeAt(1), lit.charCodeAt(2))] = 1;
      const h = blockHash(lit.charCodeAt(m - 3), lit.charCodeAt(m - 2), lit.charCodeAt(m - 1));
      const list = this.candidates.get(h);
      if (list) list.push(lit);
      else this.candidates.set(h, [lit]);
    }
  }

  /** Start offsets of literal occurrences in text[start, end), ascending; count is the number found. */
  scan(text: string, start: number, end: number): { positions: Int32Array; count: number } {
    const m = this.m;
    const shift = this.shift;
    let count = 0;
    const add = (position: number) => {
      if (count === this.positions.length) {
        const grown = new Int32Array(count * 2);
        grown.set(this.positions);
        this.positions = grown;
      }
      this.positions[count++] = position;
    };
    let i = start + m - 1; // end of the window
    while (i < end) {
      const h = blockHash(text.charCodeAt(i - 2), text.charCodeAt(i - 1), text.charCodeAt(i));
      const s = shift[h];
      if (s > 0) {
        i += s;
        continue;
      }
      const from = i - m + 1;
      if (this.starts[blockHash(text.charCodeAt(from), text.charCodeAt(from + 1), text.charCodeAt(from + 2))] === 0) {
        i++;
        continue;
      }
      for (const lit of this.candidates.get(h)!) {
        if (from + lit.length <= end && text.startsWith(lit, from)) {
          add(from);
          break;
        }
      }
      i++;
    }
    if (this.short.length) {
      const long = count;
      for (const lit of this.short) for (let p = text.indexOf(lit, start); p !== -1 && p + lit.length <= end; p = text.indexOf(lit, p + 1)) add(p);
      if (count > long) this.positions.subarray(0, count).sort();
    }
    return { positions: this.positions, count };
  }
}

/** Three characters hashed to 16 bits (collisions only make a position look interesting). */
function blockHash(a: number, b: number, c: number): number {
  return (Math.imul(a, 0x3c1) ^ Math.imul(b, 0x1f) ^ c) & 0xffff;
}
