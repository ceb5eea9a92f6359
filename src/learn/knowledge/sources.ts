/**
 * What search_knowledge indexes, as documents: the markdown guides under knowledge/ chunked by
 * heading, the scheduler catalog, the NCCL parameter table, the incident signatures and the rules.
 * This file is the only place the index reads other domains' tables.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '../../core/store.js';
import { loadCatalog } from '../../sched/catalog.js';
import { describeParams } from '../../nccl/params/space.js';
import { listRules } from '../rules/store.js';

/** knowledge/ in the package (the same relative place from src/ and dist/). */
export const KNOWLEDGE_DIR = fileURLToPath(new URL('../../../knowledge/', import.meta.url));

export const DOC_KINDS = ['guide', 'scheduler', 'nccl-param', 'incident', 'rule'] as const;
export type DocKind = (typeof DOC_KINDS)[number];

export interface KnowledgeDoc {
  kind: DocKind;
  /** The resource with the full text. */
  uri: string;
  /** Document title (a guide's H1, a scheduler's name ...). */
  title: string;
  /** The heading path of a guide chunk ("Step 3: small messages ..."); empty for whole documents. */
  section: string;
  /** Words that name what the document is about (use cases, categories): weighted above the body. */
  keywords: string;
  body: string;
}

export const knowledgeUri = (path: string) => `tuneloop://knowledge/${path.split(sep).join('/')}`;

/** Every markdown file under knowledge/, relative paths, sorted. */
export function markdownFiles(dir = KNOWLEDGE_DIR): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.md')) out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out;
}

/** A guide cut at every heading: each chunk carries its heading path and the document's title. */
export function chunkMarkdown(path: string, text: string): KnowledgeDoc[] {
  const lines = text.split('\n');
  const title = lines.find((l) => l.startsWith('# '))?.slice(2).trim() ?? path;
  const docs: KnowledgeDoc[] = [];
  const headings: string[] = [];
  let body: string[] = [];
  const flush = () => {
    const content = body.join('\n').trim();
    if (content) docs.push({ kind: 'guide', uri: knowledgeUri(path), title, section: headings.slice(1).join(' > '), keywords: headings.join(' '), body: content });
    body = [];
  };
  let inFence = false;
  for (const line of lines) {
    if (line.startsWith('```')) inFence = !inFence;
    const m = !inFence && /^(#{1,6})\s+(.*)$/.exec(line);
    if (m) {
      flush();
      headings.length = m[1].length - 1;
      headings.push(m[2].trim());
      continue;
    }
    body.push(line);
  }
  flush();
  return docs;
}

function guideDocs(): KnowledgeDoc[] {
  return markdownFiles().flatMap((path) => chunkMarkdown(path, readFileSync(join(KNOWLEDGE_DIR, path), 'utf8')));
}

function schedulerDocs(): KnowledgeDoc[] {
  return loadCatalog().schedulers.map((s) => ({
    kind: 'scheduler' as const,
    uri: `tuneloop://schedulers/${s.name}`,
    title: `${s.name}: ${s.purpose}`,
    section: '',
    keywords: [...s.use_cases, ...s.characteristics, s.production_status].join(' '),
    body: [s.algorithm, ...s.limitations, s.status_note, ...(s.tuning ?? []), ...s.flags.map((f) => `${f.name}: ${f.description}${f.advice ? ` ${f.advice}` : ''}`)].join('\n'),
  }));
}

/** Every variable of the table, documented or not, removed ones included: people ask about old names too. */
function ncclParamDocs(): KnowledgeDoc[] {
  return describeParams({ undocumented: true }).map((p) => ({
    kind: 'nccl-param' as const,
    uri: knowledgeUri('nccl/params.json'),
    title: p.name,
    section: p.category,
    keywords: `${p.category} ${p.risk}`,
    body: [p.description, p.notes ?? '', releaseWindow(p)].filter(Boolean).join('\n'),
  }));
}

function releaseWindow(p: ReturnType<typeof describeParams>[number]): string {
  const parts = [p.since ? `Read since NCCL ${p.since}.` : '', p.removed_in ? `Removed in NCCL ${p.removed_in}.` : '', p.deprecated_since ? `Deprecated since ${p.deprecated_since}.` : '', p.replaced_by ? `Replaced by ${p.replaced_by}.` : ''];
  return parts.filter(Boolean).join(' ');
}

interface SignatureEntry {
  id?: string;
  title?: string;
  meaning?: string;
  remedy?: string;
  next_checks?: string[];
}

/** Incident signatures, read tolerantly: the table's owner may add fields. */
function incidentDocs(): KnowledgeDoc[] {
  let entries: SignatureEntry[] = [];
  try {
    const parsed = JSON.parse(readFileSync(join(KNOWLEDGE_DIR, 'incidents', 'signatures.json'), 'utf8')) as { signatures?: SignatureEntry[] };
    entries = parsed.signatures ?? [];
  } catch {
    return [];
  }
  return entries
    .filter((s) => s.id && s.title)
    .map((s) => ({
      kind: 'incident' as const,
      uri: knowledgeUri('incidents/signatures.json'),
      title: s.title!,
      section: s.id!,
      keywords: s.id!.replace(/_/g, ' '),
      body: [s.meaning ?? '', `Next checks: ${(s.next_checks ?? []).join('; ')}`, `Remedy: ${s.remedy ?? ''}`].join('\n'),
    }));
}

export function ruleDocs(store: Store): KnowledgeDoc[] {
  return listRules(store, { limit: 5000, offset: 0 }).rules.map((r) => ({
    kind: 'rule' as const,
    uri: `tuneloop://rules/${r.id}`,
    title: `Rule ${r.id} (${r.domain}): ${JSON.stringify(r.patch)}`,
    section: '',
    keywords: Object.values(r.context).flat().map(String).join(' '),
    body: `${JSON.stringify(r.context)}\n${r.note ?? ''}${r.gain !== null ? `\ngain ${(r.gain * 100).toFixed(1)}%` : ''}`,
  }));
}

/** The static documents (files and tables shipped with tuneloop). */
export function staticDocs(): KnowledgeDoc[] {
  return [...guideDocs(), ...schedulerDocs(), ...ncclParamDocs(), ...incidentDocs()];
}

