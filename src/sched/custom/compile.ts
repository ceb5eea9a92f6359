/**
 * Compile a scheduler's BPF C with clang for the BPF target, against the cached vmlinux.h and
 * tuneloop's header (schedulers/include/tuneloop/scx.bpf.h), and turn clang's output into
 * diagnostics with file, line and column.
 */
import { basename, relative } from 'node:path';
import type { Config } from '../../core/config.js';
import { runCommand } from '../../core/exec.js';
import { requireBinary } from '../../core/probe.js';
import { INCLUDE_DIR } from '../paths.js';
import type { VmlinuxHeader } from './vmlinux.js';

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  severity: 'error' | 'warning' | 'note' | 'fatal error';
  message: string;
  /** The source line and caret clang printed under it. */
  context: string[];
}

export interface CompileResult {
  ok: boolean;
  command: string[];
  diagnostics: Diagnostic[];
  errors: number;
  warnings: number;
  /** Last lines of clang's raw output (for anything the parser did not recognise). */
  output_tail: string[];
}

const TARGET_ARCH: Record<string, string> = { x64: 'x86', arm64: 'arm64', arm: 'arm', ppc64: 'powerpc', s390x: 's390', riscv64: 'riscv', loong64: 'loongarch', mips64el: 'mips' };
const DIAGNOSTIC = /^(.+?):(\d+):(\d+): (fatal error|error|warning|note): (.*)$/;
const MAX_DIAGNOSTICS = 50;

export async function compileBpf(
  config: Config,
  options: { source: string; object: string; vmlinux: VmlinuxHeader; defines?: Record<string, string>; signal?: AbortSignal; logFile?: string },
): Promise<CompileResult> {
  const clang = requireBinary('clang', config.binPath, 'build_scheduler compiles BPF C with it');
  const arch = TARGET_ARCH[process.arch] ?? process.arch;
  const command = [
    clang,
    '-g',
    '-O2',
    '-Wall',
    '-target',
    'bpf',
    `-D__TARGET_ARCH_${arch}`,
    '-mcpu=v3',
    // Little-endian hosts build little-endian BPF; s390x is big-endian.
    process.arch === 's390x' ? '-mbig-endian' : '-mlittle-endian',
    ...(options.vmlinux.has_sched_ext ? [] : ['-DTL_SCX_COMPAT']),
    ...Object.entries(options.defines ?? {}).map(([k, v]) => `-D${k}=${v}`),
    '-fno-color-diagnostics',
    '-ferror-limit=50',
    '-I',
    options.vmlinux.dir,
    '-I',
    INCLUDE_DIR,
    '-c',
    options.source,
    '-o',
    options.object,
  ];
  const r = await runCommand(command, { timeoutMs: 120_000, signal: options.signal, logFile: options.logFile, maxOutputBytes: 4 * 1024 * 1024 });
  const output = `${r.stderr}\n${r.stdout}`;
  const diagnostics = parseDiagnostics(output, (file) => displayName(file, options.source, options.vmlinux.dir));
  if (r.timedOut) diagnostics.unshift({ file: basename(options.source), line: 0, column: 0, severity: 'fatal error', message: 'clang timed out after 120 s', context: [] });
  return {
    ok: r.ok,
    command,
    diagnostics: diagnostics.slice(0, MAX_DIAGNOSTICS),
    errors: diagnostics.filter((d) => d.severity === 'error' || d.severity === 'fatal error').length,
    warnings: diagnostics.filter((d) => d.severity === 'warning').length,
    output_tail: output.trim().split('\n').slice(-30),
  };
}

export function parseDiagnostics(output: string, name: (file: string) => string = (f) => f): Diagnostic[] {
  const out: Diagnostic[] = [];
  let current: Diagnostic | null = null;
  for (const line of output.split('\n')) {
    const m = DIAGNOSTIC.exec(line);
    if (m) {
      current = { file: name(m[1]), line: Number(m[2]), column: Number(m[3]), severity: m[4] as Diagnostic['severity'], message: m[5], context: [] };
      out.push(current);
    } else if (current && current.context.length < 2 && line.trim() && !/^\d+ (error|warning)s? generated\.$/.test(line.trim()) && !/^In file included from/.test(line)) {
      current.context.push(line);
    }
  }
  return out;
}

function displayName(file: string, source: string, vmlinuxDir: string): string {
  if (file === source) return basename(source);
  if (file.startsWith(INCLUDE_DIR)) return relative(INCLUDE_DIR, file);
  if (file.startsWith(vmlinuxDir)) return 'vmlinux.h';
  return file;
}
