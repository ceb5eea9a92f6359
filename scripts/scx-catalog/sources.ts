/** Reading an scx source tree: the schedulers of scheds/rust, their crates and clap roots. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { clapCommand, type ClapCommand, type SourceSet } from './clap-model.js';
import { clapItems, type ClapItem } from './rust-source.js';

export interface SchedulerSource {
  name: string;
  crateVersion: string;
  command: ClapCommand;
}

/** Every scheduler under scheds/rust (the released ones; scheds/experimental is not shipped). */
export function readSchedulers(scxDir: string): SchedulerSource[] {
  const root = join(scxDir, 'scheds', 'rust');
  const utils = crateItems(scxDir, join(scxDir, 'rust', 'scx_utils'));
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'Cargo.toml')))
    // A scheduler without clap takes no flags tuneloop could check (older scx_rlfifo).
    .filter((d) => /\bclap\b/.test(readFileSync(join(root, d.name, 'Cargo.toml'), 'utf8')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const dir = join(root, name);
      const cargo = readFileSync(join(dir, 'Cargo.toml'), 'utf8');
      // Path dependencies on other schedulers (scx_chaos flattens scx_p2dq's options).
      const deps = [...cargo.matchAll(/^(scx_\w+)\s*=\s*\{[^}]*path\s*=\s*"([^"]+)"/gm)]
        .map((m) => join(dir, m[2]))
        .filter((p) => p.includes(`${join('scheds', 'rust')}`));
      const own = crateItems(scxDir, dir);
      const set: SourceSet = {
        items: [...own.items, ...deps.flatMap((d) => crateItems(scxDir, d).items), ...utils.items],
        text: [own.text, ...deps.map((d) => crateItems(scxDir, d).text), utils.text].join('\n'),
      };
      const main = readFileSync(join(dir, 'src', 'main.rs'), 'utf8');
      const rootName = /\b(\w+)::parse\(\)/.exec(main)?.[1] ?? /fn main\((?:mut\s+)?\w+:\s*(\w+)\)/.exec(main)?.[1];
      const rootItem = set.items.find((i) => i.name === rootName && i.kind === 'struct');
      if (!rootItem) throw new Error(`${name}: cannot find the clap struct main() parses (${rootName ?? 'none found'})`);
      return { name, crateVersion: /^version\s*=\s*"([^"]+)"/m.exec(cargo)?.[1] ?? 'unknown', command: clapCommand(name, rootItem, set) };
    });
}

function crateItems(scxDir: string, dir: string): { items: ClapItem[]; text: string } {
  const files = rustFiles(join(dir, 'src'));
  const texts = files.map((f) => readFileSync(f, 'utf8'));
  return { items: files.flatMap((f, i) => clapItems(texts[i], relative(scxDir, f))), text: texts.join('\n') };
}

function rustFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? rustFiles(join(dir, e.name)) : e.name.endsWith('.rs') ? [join(dir, e.name)] : [],
  );
}
