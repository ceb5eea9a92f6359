/** The README's tool table is generated from the code (npm run docs) and must never drift. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { updateToolTable } from '../src/cli/tools.js';
import { loadAllTools } from '../src/tool-index.js';
import { SERVER_VERSION } from '../src/version.js';

const root = resolve(import.meta.dirname, '..');

describe('README', async () => {
  const allTools = await loadAllTools();
  const readme = readFileSync(resolve(root, 'README.md'), 'utf8');

  it('has a tool table that matches the tool definitions (run `npm run docs` to fix)', () => {
    expect(updateToolTable(readme, allTools)).toBe(readme);
  });

  it('mentions every tool by name', () => {
    for (const tool of allTools) expect(readme).toContain(`\`${tool.name}\``);
  });

  it('gives the test command CI runs', () => {
    expect(readme).toContain('npm test');
    expect(readFileSync(resolve(root, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
  });
});

describe('package', () => {
  it('reports the version package.json declares', () => {
    const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
    expect(SERVER_VERSION).toBe(pkg.version);
    expect(pkg.bin.tuneloop).toBe('dist/cli.js');
  });
});
