/** `npm run docs`: regenerate the README's tool table from the tool definitions. */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { updateToolTable } from '../src/cli/tools.js';
import { allTools } from '../src/tools.js';

const path = resolve(import.meta.dirname, '../README.md');
const before = readFileSync(path, 'utf8');
const after = updateToolTable(before, allTools);
if (after !== before) writeFileSync(path, after);
process.stdout.write(after === before ? 'README.md tool table is up to date.\n' : 'README.md tool table updated.\n');
