/** `npm run docs`: regenerate the README's tool table from the tool definitions. */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { updateToolTable } from '../src/cli/tools.js';
import { loadAllTools } from '../src/tool-index.js';

const path = resolve(import.meta.dirname, '../README.md');
const before = readFileSync(path, 'utf8');
const after = updateToolTable(before, await loadAllTools());
if (after !== before) writeFileSync(path, after);
process.stdout.write(after === before ? 'README.md tool table is up to date.\n' : 'README.md tool table updated.\n');
