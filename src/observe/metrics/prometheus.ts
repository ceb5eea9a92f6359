/**
 * A parser for the Prometheus text exposition format (0.0.4, and the OpenMetrics lines a
 * prometheus_client server also emits): HELP/TYPE, label values with \\ \" \n escapes, NaN/±Inf,
 * optional timestamps, and histogram/summary sample suffixes grouped into their family.
 *
 * Why not an npm parser: parse-prometheus-text-format (the maintained candidate) merges labelled
 * histogram and summary series into one, losing labels, _sum and _count (every vLLM histogram is
 * labelled model_name), and drops a final line without a newline.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (`x_bucket`, `x_sum`...). */
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

export interface ParseResult {
  families: Map<string, MetricFamily>;
  errors: { line: number; message: string }[];
}

const MAX_ERRORS = 20;
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<MetricType, string[]> = {
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['_sum', '_count', '_created'],
  counter: ['_total', '_created'],
  gauge: [],
  untyped: [],
};

export function parsePrometheusText(text: string): ParseResult {
  const families = new Map<string, MetricFamily>();
  const errors: ParseResult['errors'] = [];
  const fail = (line: number, message: string) => {
    if (errors.length < MAX_ERRORS) errors.push({ line, message });
  };
  const family = (name: string): MetricFamily => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: 'untyped', samples: [] }));
    return f;
  };

  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '').trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/.exec(line);
      if (!m) continue; // a comment, or an OpenMetrics line (# EOF, # UNIT) we do not need
      const f = family(m[2]);
      if (m[1] === 'HELP') f.help = unescapeHelp(m[3] ?? '');
      else {
        const type = (m[3] ?? '').trim().toLowerCase();
        if (!TYPES.has(type as MetricType)) fail(i + 1, `unknown metric type "${type}" for ${m[2]}`);
        else if (f.samples.length) fail(i + 1, `TYPE for ${m[2]} after its samples`);
        else f.type = type as MetricType;
      }
      continue;
    }
    try {
      const sample = parseSample(line);
      familyOf(sample.name, families, family).samples.push(sample);
    } catch (error) {
      fail(i + 1, (error as Error).message);
    }
  }
  // A HELP/TYPE without samples says nothing about the current state.
  for (const [name, f] of families) if (f.samples.length === 0) families.delete(name);
  return { families, errors };
}

/** The family a sample belongs to: its own name, or a typed family it is a suffix of. */
function familyOf(name: string, families: Map<string, MetricFamily>, create: (n: string) => MetricFamily): MetricFamily {
  const own = families.get(name);
  if (own && own.type !== 'untyped') return own;
  for (const [type, suffixes] of Object.entries(SUFFIXES) as [MetricType, string[]][]) {
    for (const suffix of suffixes) {
      if (!name.endsWith(suffix)) continue;
      const base = families.get(name.slice(0, -suffix.length));
      if (base && base.type === type) return base;
    }
  }
  return own ?? create(name);
}

export function parseSample(line: string): Sample {
  const nameMatch = NAME.exec(line);
  if (!nameMatch) throw new Error(`expected a metric name at "${line.slice(0, 40)}"`);
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  const skip = () => {
    while (line[pos] === ' ' || line[pos] === '\t') pos++;
  };
  skip();
  if (line[pos] === '{') {
    pos++;
    for (;;) {
      skip();
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const label = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(pos));
      if (!label) throw new Error(`${name}: bad label name at column ${pos + 1}`);
      pos += label[0].length;
      skip();
      if (line[pos] !== '=') throw new Error(`${name}: expected = after label ${label[0]}`);
      pos++;
      skip();
      if (line[pos] !== '"') throw new Error(`${name}: label ${label[0]} value must be quoted`);
      pos++;
      let value = '';
      for (;;) {
        const c = line[pos];
        if (c === undefined) throw new Error(`${name}: unterminated value of label ${label[0]}`);
        pos++;
        if (c === '"') break;
        if (c === '\\') {
          const e = line[pos++];
          value += e === 'n' ? '\n' : e === '\\' ? '\\' : e === '"' ? '"' : `\\${e ?? ''}`;
        } else value += c;
      }
      if (label[0] in labels) throw new Error(`${name}: label ${label[0]} given twice`);
      labels[label[0]] = value;
      skip();
      if (line[pos] === ',') pos++;
      else if (line[pos] !== '}') throw new Error(`${name}: expected , or } after label ${label[0]}`);
    }
  }
  const rest = line.slice(pos).trim().split(/[ \t]+/);
  if (rest.length < 1 || rest[0] === '' || rest.length > 2) throw new Error(`${name}: expected a value and an optional timestamp`);
  const value = parseValue(rest[0]);
  if (Number.isNaN(value) && !/^nan$/i.test(rest[0])) throw new Error(`${name}: "${rest[0]}" is not a number`);
  const sample: Sample = { name, labels, value };
  if (rest[1] !== undefined) {
    const ts = Number(rest[1]);
    if (!Number.isFinite(ts)) throw new Error(`${name}: bad timestamp "${rest[1]}"`);
    sample.timestampMs = ts;
  }
  return sample;
}

export function parseValue(text: string): number {
  if (/^[+]?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  return text.trim() === '' ? NaN : Number(text);
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(n|\\)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** Labels as a stable key, optionally without some (le, quantile). */
export function labelKey(labels: Record<string, string>, without: string[] = []): string {
  return JSON.stringify(Object.keys(labels).filter((k) => !without.includes(k)).sort().map((k) => [k, labels[k]]));
}
