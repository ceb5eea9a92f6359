/**
 * The knowledge index: SQLite FTS5 with BM25 ranking, in memory (better-sqlite3 bundles SQLite with
 * FTS5). It is rebuilt per server from the files shipped with tuneloop plus the rules in the store
 * (refreshed when the rules change), so search_knowledge never writes to the shared database.
 *
 * Ranking: BM25 over four columns weighted title 8, section 6, keywords 4, body 1 (a word in a
 * heading says more about a chunk than one in passing); curated guides weigh 1.25x over table rows,
 * since they answer questions rather than define terms. The Porter stemmer makes "gaming" find
 * "game"; a few synonyms join spellings people mix ("allreduce", "all-reduce", "all_reduce").
 */
import Database from 'better-sqlite3';
import type { Store } from '../../core/store.js';
import { rulesVersion } from '../rules/store.js';
import { ruleDocs, staticDocs, type DocKind, type KnowledgeDoc } from './sources.js';

export interface SearchHit {
  kind: DocKind;
  title: string;
  section: string;
  uri: string;
  snippet: string;
  score: number;
}

const STOPWORDS = new Set(
  'a an the for on in of to is are was were be been my our your i we you what which who how why when where do does did should can could would with and or it its this that these those there get me about any some use using my'.split(' '),
);

/** Spellings that mean the same; each query word also matches its phrase forms. */
const SYNONYMS: Record<string, string[]> = {
  allreduce: ['all reduce'],
  allgather: ['all gather'],
  reducescatter: ['reduce scatter'],
  alltoall: ['all to all'],
  oom: ['out of memory'],
  hang: ['hung', 'stuck'],
  hangs: ['hung', 'stuck'],
  latency: ['latency sensitive'],
};

export class KnowledgeIndex {
  private readonly db = new Database(':memory:');
  private rulesSeen: string | null = null;

  constructor(private readonly store: Store) {
    this.db.exec(`CREATE VIRTUAL TABLE docs USING fts5(title, section, keywords, body, kind UNINDEXED, uri UNINDEXED, tokenize = 'porter unicode61')`);
    this.insert(staticDocs());
  }

  private insert(docs: KnowledgeDoc[]): void {
    const stmt = this.db.prepare('INSERT INTO docs (title, section, keywords, body, kind, uri) VALUES (?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const d of docs) stmt.run(d.title, d.section, d.keywords, d.body, d.kind, d.uri);
    })();
  }

  private refreshRules(): void {
    const version = rulesVersion(this.store);
    if (version === this.rulesSeen) return;
    this.db.prepare(`DELETE FROM docs WHERE kind = 'rule'`).run();
    this.insert(ruleDocs(this.store));
    this.rulesSeen = version;
  }

  search(query: string, options: { kinds?: DocKind[]; limit: number }): SearchHit[] {
    this.refreshRules();
    const match = toMatchExpression(query);
    if (!match) return [];
    const kinds = options.kinds?.length ? options.kinds : null;
    const rows = this.db
      .prepare(
        `SELECT kind, title, section, uri, snippet(docs, 3, '**', '**', ' ... ', 24) AS snippet,
                bm25(docs, 8.0, 6.0, 4.0, 1.0) * (CASE kind WHEN 'guide' THEN 1.25 ELSE 1.0 END) AS rank
         FROM docs WHERE docs MATCH ? ${kinds ? `AND kind IN (${kinds.map(() => '?').join(',')})` : ''}
         ORDER BY rank LIMIT ?`,
      )
      .all(match, ...(kinds ?? []), options.limit) as (Omit<SearchHit, 'score'> & { rank: number })[];
    return rows.map(({ rank, ...hit }) => ({ ...hit, score: Number((-rank).toFixed(3)) }));
  }

  close(): void {
    this.db.close();
  }
}

/** Words of the query (stopwords dropped, synonyms added) as an FTS5 OR of quoted terms: no query syntax gets through. */
export function toMatchExpression(query: string): string | null {
  const words = (query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => !STOPWORDS.has(w));
  const terms = new Set<string>();
  for (const w of words.slice(0, 32)) {
    terms.add(w);
    for (const s of SYNONYMS[w] ?? []) terms.add(s);
  }
  if (terms.size === 0) return null;
  return [...terms].map((t) => `"${t.replace(/"/g, '""')}"`).join(' OR ');
}
