/** search_knowledge: ranked passages from the guides, tables and rules, each with the resource holding the full text. */
import { z } from 'zod';
import type { Runtime } from '../../core/runtime.js';
import { defineTool, READ_ONLY } from '../../core/tool.js';
import { KnowledgeIndex } from './search.js';
import { DOC_KINDS } from './sources.js';

/** One index per server, built on first use and closed on shutdown. */
export function knowledgeIndex(runtime: Runtime): KnowledgeIndex {
  return runtime.service('knowledge-index', (rt) => {
    const index = new KnowledgeIndex(rt.store);
    rt.onShutdown(() => index.close());
    return index;
  });
}

export const searchKnowledgeTool = defineTool({
  name: 'search_knowledge',
  toolset: 'history',
  title: 'Search the knowledge base',
  description:
    'Search tuneloop\'s knowledge in plain language ("which scheduler for a game", "allreduce slow on small messages", "Xid 79"): ' +
    'the guides (choosing a scheduler, tuning NCCL step by step, Triton checklist, incident runbooks), the scheduler catalog, the NCCL parameter table, the incident signatures and the recorded rules. ' +
    'Returns ranked passages (SQLite FTS5, BM25) with a snippet and the resource URI of the full text (read it with resources/read).',
  annotations: READ_ONLY,
  input: z.object({
    query: z.string().min(1).max(500).describe('What you want to know, in words.'),
    kinds: z.array(z.enum(DOC_KINDS)).optional().describe('Only these sources: guide, scheduler, nccl-param, incident, rule.'),
    limit: z.number().int().min(1).max(20).default(5).describe('How many passages.'),
  }),
  output: z.object({
    hits: z.array(
      z.object({
        kind: z.enum(DOC_KINDS),
        title: z.string(),
        section: z.string().describe('Heading path of a guide passage, category of a table row.'),
        uri: z.string().describe('Resource with the full text.'),
        snippet: z.string().describe('The best-matching words, **marked**.'),
        score: z.number().describe('BM25 relevance (higher is better; comparable within one answer only).'),
      }),
    ),
  }),
  async handler(args, { runtime }) {
    return { hits: knowledgeIndex(runtime).search(args.query, { kinds: args.kinds, limit: args.limit }) };
  },
  summarize: ({ hits }) =>
    hits.length === 0
      ? 'Nothing matched; try other words (a symptom, a component, an error text).'
      : hits.map((h, i) => `${i + 1}. [${h.kind}] ${h.title}${h.section && h.kind === 'guide' ? ` > ${h.section}` : ''}\n   ${h.snippet.replace(/\s+/g, ' ').slice(0, 240)}\n   ${h.uri}`).join('\n'),
});
