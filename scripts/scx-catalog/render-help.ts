/**
 * clap 4's long help (`--help`), rendered from clap-model.ts's view of a scheduler, for test
 * fixtures of schedulers whose real help text is not published. It follows clap 4's help
 * template and layout (clap_builder/src/output/help_template.rs): about, `Usage:`, sections
 * "Arguments:", "Options:" and each `next_help_heading`, entries with the help on the next line
 * indented by 10, `[default: ...]` and `[possible values: ...]` after a blank line, a "Possible
 * values:" list for documented enum variants, text wrapped at 100 columns (clap's width when
 * stdout is not a terminal).
 */
import type { ClapArg, ClapCommand } from './clap-model.js';

const WIDTH = 100;
const INDENT = ' '.repeat(10);

/** `computed` supplies what a default computed at start-up printed on the machine the text is for. */
export function renderLongHelp(cmd: ClapCommand, computed: Record<string, string> = {}): string {
  const out: string[] = [];
  const about = cmd.longAbout ?? cmd.about;
  if (about) out.push(wrap(about, WIDTH).join('\n'), '');
  const positionals = cmd.args.filter((a) => a.positional && !a.hidden);
  const visibleSubs = cmd.subcommands.filter((s) => !s.hidden);
  const usage = [`Usage: ${cmd.name}`];
  if (cmd.args.some((a) => !a.positional && !a.hidden)) usage.push('[OPTIONS]');
  for (const p of positionals) usage.push(valueText(p));
  if (cmd.subcommands.length) usage.push('[COMMAND]');
  out.push(usage.join(' '), '');

  const sections: string[][] = [];
  if (cmd.subcommands.length) {
    const names = [...visibleSubs.map((s) => s.name), 'help'];
    const width = Math.max(...names.map((n) => n.length));
    sections.push(['Commands:', ...visibleSubs.map((s) => `  ${s.name}`), `  ${'help'.padEnd(width)}  Print this message or the help of the given subcommand(s)`]);
  }
  // Positionals without a help_heading go under "Arguments:"; with one, into that section in order.
  const plain = positionals.filter((p) => p.heading === null);
  if (plain.length) sections.push(['Arguments:', ...plain.map((p) => entry(p, computed)).join('\n\n').split('\n')]);
  const headings = [null, ...new Set(cmd.args.map((a) => a.heading).filter((h): h is string => h !== null))];
  for (const heading of headings) {
    const args = cmd.args.filter((a) => !a.hidden && a.heading === heading && (!a.positional || heading !== null));
    if (args.length) sections.push([`${heading ?? 'Options'}:`, ...args.map((a) => entry(a, computed)).join('\n\n').split('\n')]);
  }
  out.push(sections.map((s) => s.join('\n')).join('\n\n'));
  return `${out.join('\n')}\n`;
}

function entry(a: ClapArg, computed: Record<string, string>): string {
  const lines = [`  ${a.positional ? '' : a.short ? `-${a.short}, ` : '    '}${a.positional ? valueText(a) : `--${a.long}${suffix(a)}`}`];
  const text = a.longHelp ?? a.help ?? '';
  const specs = specValues(a, computed);
  const help = [text, specs.join('\n')].filter(Boolean).join('\n\n');
  if (help) lines.push(...indentWrapped(help));
  const documented = a.possibleValues.some((p) => p.help);
  if (documented) {
    if (help) lines.push(''); // clap writes "\n\n" then the indent of the next line
    lines.push(`${INDENT}Possible values:`);
    const longest = Math.max(...a.possibleValues.map((p) => p.name.length));
    for (const p of a.possibleValues) {
      const descr = p.help ? `${p.name}:${' '.repeat(longest - p.name.length + 1)}${p.help}` : p.name;
      const [first, ...rest] = wrap(descr, WIDTH - INDENT.length - 2);
      lines.push(`${INDENT}- ${first}`, ...rest.map((r) => `${INDENT}  ${r}`));
    }
  }
  return lines.join('\n');
}

function specValues(a: ClapArg, computed: Record<string, string>): string[] {
  const specs: string[] = [];
  const takesValue = a.action === 'Set' || a.action === 'Append';
  const defaults = a.defaultComputed ? (computed[a.defaultComputed] ? [computed[a.defaultComputed]] : []) : a.defaults;
  if (takesValue && defaults.length) specs.push(`[default: ${defaults.map((d) => (/\s/.test(d) ? JSON.stringify(d) : d)).join(' ')}]`);
  if (a.possibleValues.length && !a.possibleValues.some((p) => p.help)) specs.push(`[possible values: ${a.possibleValues.map((p) => p.name).join(', ')}]`);
  return specs;
}

function suffix(a: ClapArg): string {
  if (a.action === 'Count') return '...';
  if (a.action !== 'Set' && a.action !== 'Append') return '';
  const optional = a.numArgs.min === 0;
  const value = `<${a.valueName}>${a.numArgs.max > 1 ? '...' : ''}`;
  if (a.requireEquals) return optional ? `[=${value}]` : `=${value}`;
  return optional ? ` [${value}]` : ` ${value}`;
}

function valueText(p: ClapArg): string {
  const name = p.required && p.numArgs.min > 0 ? `<${p.valueName}>` : `[${p.valueName}]`;
  return `${name}${p.numArgs.max > 1 ? '...' : ''}`;
}

function indentWrapped(text: string): string[] {
  return wrap(text, WIDTH - INDENT.length).map((l) => `${INDENT}${l}`);
}

/** Greedy word wrap of each line, as clap's textwrap does: spacing inside a line is kept, empty lines stay. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let current = '';
    for (const token of line.match(/\s*\S+/g) ?? []) {
      if (current.trimEnd() && (current + token).length > width) {
        out.push(current);
        current = token.trimStart();
      } else current += token;
    }
    out.push(current);
  }
  return out;
}
