/**
 * tuneloop's compat header (schedulers/include/tuneloop/scx_compat_types.h) re-declares sched_ext
 * types for hosts whose BTF has none. libbpf relocates those fields onto the real kernel's by name
 * and kind, so every field must have the kernel's type (an `int` where the kernel has an enum
 * fails the CO-RE relocation and the object never loads). Checked against the definitions in
 * test/fixtures/sched/linux-6.12-scx-types.h, copied verbatim from Debian's linux-source-6.12
 * (6.12.117-1~deb12u1: kernel/sched/ext.c, include/linux/sched/ext.h).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INCLUDE_DIR } from '../../src/sched/paths.js';
import { FIXTURES } from './helpers.js';

interface Declarations {
  structs: Map<string, Map<string, string>>;
  enums: Map<string, Map<string, bigint>>;
}

/** Structs (member name -> normalised type) and enums (enumerator -> value) of a C header. */
function declarations(text: string): Declarations {
  const code = text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/.*$/gm, '')
    .replace(/^\s*#.*$/gm, '');
  const out: Declarations = { structs: new Map(), enums: new Map() };
  for (const m of code.matchAll(/\b(struct|enum)\s+(\w+)\s*\{([^{}]*)\}\s*;/g)) {
    const [, kind, name, body] = m;
    if (kind === 'enum') {
      const values = new Map<string, bigint>();
      let next = 0n;
      for (const item of body.split(',').map((s) => s.trim()).filter(Boolean)) {
        const [key, expr] = item.split('=').map((s) => s.trim());
        next = expr === undefined ? next : evaluate(expr, values);
        values.set(key, next);
        next += 1n;
      }
      out.enums.set(name, values);
    } else {
      const members = new Map<string, string>();
      for (const decl of body.split(';').map((s) => s.replace(/\s+/g, ' ').trim()).filter(Boolean)) {
        const fn = /\(\s*\*\s*(\w+)\s*\)/.exec(decl);
        const member = fn ? fn[1] : /(\w+)\s*(\[[^\]]*\])?$/.exec(decl)![1];
        members.set(member, normalise(decl.replace(fn ? fn[0] : new RegExp(`\\b${member}\\b(?=\\s*(\\[|$))`), fn ? '(*)' : '')));
      }
      out.structs.set(name, members);
    }
  }
  return out;
}

function evaluate(expr: string, known: Map<string, bigint>): bigint {
  const shift = /^(\d+)\w*\s*<<\s*(\d+)$/.exec(expr);
  if (shift) return BigInt(shift[1]) << BigInt(shift[2]);
  if (known.has(expr)) return known.get(expr)!;
  const product = /^(\d+)\s*\*\s*(\d+)$/.exec(expr);
  if (product) return BigInt(product[1]) * BigInt(product[2]);
  if (expr === 'U64_MAX') return (1n << 64n) - 1n;
  return BigInt(expr.replace(/[uUlL]+$/, ''));
}

function normalise(type: string): string {
  return type.replace(/\s*\*\s*/g, '*').replace(/\s*([(),[\]])\s*/g, '$1').replace(/\s+/g, ' ').trim();
}

const kernel = declarations(readFileSync(join(FIXTURES, 'linux-6.12-scx-types.h'), 'utf8'));
const compat = declarations(readFileSync(join(INCLUDE_DIR, 'tuneloop', 'scx_compat_types.h'), 'utf8'));
const constants = kernel.enums.get('scx_public_consts')!;

describe('scx_compat_types.h against Linux 6.12', () => {
  it('parses both headers', () => {
    expect([...kernel.structs.keys()]).toContain('sched_ext_ops');
    expect([...compat.structs.keys()]).toContain('sched_ext_ops');
    expect(constants.get('SCX_OPS_NAME_LEN')).toBe(128n);
  });

  const compared = [...compat.structs.keys()].filter((name) => !name.includes('___'));
  it.each(compared)('struct %s: every field exists in the kernel with the same type', (name) => {
    const theirs = kernel.structs.get(name);
    expect(theirs, `the kernel has no struct ${name}`).toBeDefined();
    for (const [member, type] of compat.structs.get(name)!) {
      expect(theirs!.has(member), `${name}.${member} is not a kernel field`).toBe(true);
      const expected = theirs!.get(member)!.replace(/\[(\w+)\]/, (all, c: string) => (constants.has(c) ? `[${constants.get(c)}]` : all));
      expect(type, `${name}.${member}`).toBe(expected);
    }
  });

  it('declares every enum a compared field uses, with the kernel\'s values', () => {
    const used = new Set(compared.flatMap((name) => [...kernel.structs.get(name)!.values()]).flatMap((t) => [...t.matchAll(/\benum (\w+)/g)].map((m) => m[1])));
    expect([...used].sort()).toEqual(['scx_cpu_preempt_reason', 'scx_exit_kind']);
    for (const name of used) expect(compat.enums.get(name), `enum ${name}`).toEqual(kernel.enums.get(name));
  });

  it('sched_ext_entity fields the templates use are 64-bit where the kernel has u64 (the vtime charge)', () => {
    const entity = compat.structs.get('sched_ext_entity')!;
    expect(entity.get('slice')).toBe('u64');
    expect(entity.get('dsq_vtime')).toBe('u64');
  });
});
