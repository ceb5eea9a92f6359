/**
 * Flag validation: against the scx v1.1.2 catalog where the binary is not installed (a host
 * without sched_ext still gets its flags and scheduler name checked), and against the installed
 * binary's own --help where it is (the fake binaries print help texts from
 * test/fixtures/sched/help; one test installs a real 2025 scx_p2dq help, whose flags differ).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { findCatalogScheduler, loadCatalog } from '../../src/sched/catalog.js';
import { specFromCatalog, specFromHelp } from '../../src/sched/flag-spec.js';
import { validateFlags } from '../../src/sched/flags.js';
import { inspectBinary, parseClapHelp } from '../../src/sched/help.js';
import { connectInMemory, textOf } from '../helpers/runtime.js';
import { tempDir } from '../helpers/tmp.js';
import { FAKE_BIN, FIXTURES, fakeHost } from './helpers.js';
import { readFileSync } from 'node:fs';

const catalog = loadCatalog();
const entry = (name: string) => findCatalogScheduler(catalog, name)!;
const problems = (name: string, argv: string[], allow = false, spec = specFromCatalog(entry(name), catalog.scx_version)): string => {
  try {
    validateFlags(spec, argv, allow);
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as UserError).message;
  }
};

describe('validateFlags against the v1.1.2 catalog', () => {
  it.each([
    [['--slice-us', '5000'], 'scx_bpfland'],
    [['--slice-us=5000', '--local-pcpu', '-v', '--stats', '1.5'], 'scx_bpfland'],
    [['-pk', '-s5000', '-l=20000'], 'scx_bpfland'],
    [['--idle-resume-us', '-1'], 'scx_bpfland'],
    [['-vvv', '--performance', '--slice-max-us', '3000'], 'scx_lavd'],
    [['-t', '500', '-t', '2500', '-q', '2', '--lb-mode', 'nr-queued'], 'scx_p2dq'],
    [['--dispatch-lb-busy', '99', '--dispatch-lb-interactive', 'false', '--virt-llc=2-8'], 'scx_p2dq'],
    [['--cell-parent-cgroup', '/workloads', '--cell-exclude', 'a.service', '--cell-exclude', 'b.service'], 'scx_mitosis'],
    [['--slice-us', '20000', 'file:/etc/scx/layers.json'], 'scx_layered'],
    [['--interval', '0.5', '-C', '0xff', '0xff00'], 'scx_rusty'],
    [['-v', '--', 'stress-ng', '--cpu', '2'], 'scx_chaos'],
    [['stress-ng', '--cpu', '2'], 'scx_chaos'],
    [['-p', 'esports', '--quantum', '1000'], 'scx_cake'],
    [['--dsq-topology', 'llc', '--ordering', 'deadline'], 'scx_forge'],
    [['--no-adaptive'], 'scx_pandemonium'],
  ])('accepts %j for %s', (argv, name) => {
    expect(problems(name, argv)).toBe('');
  });

  it.each([
    ['scx_bpfland', ['-vv'], '--verbose is given 2 times; scx_bpfland accepts it once.'],
    ['scx_cosmos', ['--verbose', '--verbose'], '--verbose is given 2 times'],
    ['scx_p2dq', ['--lb-mode', 'nr_queued'], '--lb-mode expects one of load, nr-queued, got "nr_queued".'],
    ['scx_p2dq', ['-t', '500,2500,5000'], '--dsq-time-slices expects an integer (at least 0); repeat the flag for several values, got "500,2500,5000".'],
    ['scx_p2dq', ['--dispatch-lb-busy', '100'], '--dispatch-lb-busy=100 is out of range: 0 to 99.'],
    ['scx_p2dq', ['--exit-dump-len', '0'], '--exit-dump-len is not a flag of scx_p2dq according to the scx 1.1.2 catalog'],
    ['scx_lavd', ['--exit-dump-len', '0'], '--exit-dump-len is not a flag of scx_lavd'],
    ['scx_p2dq', ['--help-stats'], '--help-stats is not a flag of scx_p2dq'],
    ['scx_mitosis', ['--stats', '1', '--cell-parent-cgroup', '/w'], '--stats is not a flag of scx_mitosis'],
    ['scx_mitosis', [], 'scx_mitosis needs --cell-parent-cgroup'],
    ['scx_bpfland', ['--slice-usec', '5000'], '--slice-usec is not a flag of scx_bpfland according to the scx 1.1.2 catalog (the binary is not installed here). Did you mean --slice-us?'],
    ['scx_bpfland', ['--slice-us', 'fast'], '--slice-us expects an integer (at least 0), got "fast".'],
    ['scx_bpfland', ['--slice-us', '-5'], '--slice-us needs a value'],
    ['scx_bpfland', ['--slice-us', '18446744073709551616'], 'out of range: 0 to 18446744073709551615 (u64)'],
    ['scx_bpfland', ['--local-pcpu=yes'], '--local-pcpu takes no value (it is a switch); got "yes".'],
    ['scx_bpfland', ['--slice-us', '1000', '--slice-us', '2000'], '--slice-us is given 2 times'],
    ['scx_bpfland', ['--monitor', '1'], '--monitor does not load a scheduler'],
    ['scx_bpfland', ['--help'], '--help prints help and exits'],
    ['scx_bpfland', ['extra'], 'scx_bpfland takes no positional arguments, got 1'],
    ['scx_lavd', ['--performance', '--powersave'], '--performance and --powersave cannot be used together.'],
    ['scx_lavd', ['--autopilot', '--no-core-compaction'], '--autopilot and --no-core-compaction cannot be used together.'],
    ['scx_lavd', ['--preempt-shift', '11'], '--preempt-shift=11 is out of range: 0 to 10.'],
    ['scx_p2dq', ['--dispatch-lb-interactive'], '--dispatch-lb-interactive needs a value (one of true, false).'],
    ['scx_rusty', ['--interval', 'NaN'], '--interval expects a number, got "NaN".'],
    ['scx_rusty', ['-C', '0xff', '--cache-level', '2'], '--cpumasks and --cache-level cannot be used together.'],
    ['scx_chaos', ['--random-delay-frequency', '0.1'], '--random-delay-frequency requires --random-delay-min-us.'],
    ['scx_chaos', ['--repeat-failure'], '--repeat-failure requires the args argument.'],
    ['scx_mitosis', ['--cell-parent-cgroup', '/w', '--demand-smoothing', '1.5'], '--demand-smoothing=1.5 is out of range: 0 to 1.'],
    ['scx_p2dq', ['--virt-llc', '2-8'], 'scx_p2dq takes no positional arguments'],
  ])('%s refuses %j', (name, argv, message) => {
    expect(problems(name, argv)).toContain(message);
  });

  it('lists every problem at once', () => {
    const text = problems('scx_bpfland', ['--slice-us', 'x', '--nope', '--disable-smt=1']);
    expect(text.split('\n- ')).toHaveLength(4);
  });

  it('passes unlisted flags through with allow_unlisted_flags, still checking known ones', () => {
    expect(problems('scx_chaos', ['--brand-new-flag', '0.1', '--cpufreq-frequency', '0.5', '--cpufreq-min', '1', '--cpufreq-max', '2'], true)).toBe('');
    expect(problems('scx_bpfland', ['--brand-new-flag', '--slice-us', 'x'], true)).toContain('--slice-us expects an integer');
  });
});

describe('validateFlags against an installed binary\'s --help', () => {
  // A real scx_p2dq of mid-2025 (help/real/scx_p2dq.txt): no --lb-mode yet, --interactive-dsq still there.
  const oldP2dq = specFromHelp(entry('scx_p2dq'), parseClapHelp(readFileSync(join(FIXTURES, 'help', 'real', 'scx_p2dq.txt'), 'utf8')), '/usr/bin/scx_p2dq');

  it('follows the binary where it differs from the catalog', () => {
    expect(problems('scx_p2dq', ['--lb-mode', 'load'], false, oldP2dq)).toContain('--lb-mode is not a flag of scx_p2dq according to the installed /usr/bin/scx_p2dq --help');
    expect(problems('scx_p2dq', ['--interactive-dsq', 'false', '-t', '500', '-t', '5000'], false, oldP2dq)).toBe('');
    expect(problems('scx_p2dq', ['--interactive-dsq', 'maybe'], false, oldP2dq)).toContain('--interactive-dsq expects one of true, false');
  });

  it('keeps the catalog\'s types, ranges and repeatability where both agree on the flag', () => {
    expect(problems('scx_p2dq', ['--dispatch-lb-busy', '100'], false, oldP2dq)).toContain('out of range: 0 to 99');
    expect(problems('scx_p2dq', ['-q', 'three'], false, oldP2dq)).toContain('--dumb-queues expects an integer');
    expect(problems('scx_p2dq', ['-vv', '--stats', '2'], false, oldP2dq)).toBe('');
  });

  it('caches --help per binary path, mtime and size', async () => {
    const dir = tempDir('tuneloop-help-');
    const help = join(dir, 'help.txt');
    const bin = join(dir, 'scx_p2dq');
    writeFileSync(help, readFileSync(join(FIXTURES, 'help', 'real', 'scx_p2dq.txt')));
    const script = (extra: string) => `#!/bin/sh\n# ${extra}\n[ "$1" = --help ] && exec cat "${help}"\necho "scx_p2dq 1.0.13"\n`;
    writeFileSync(bin, script('first'));
    chmodSync(bin, 0o755);
    const first = await inspectBinary(bin);
    expect(first.help!.flags.some((f) => f.name === '--lb-mode')).toBe(false);
    writeFileSync(help, readFileSync(join(FIXTURES, 'help', 'scx_p2dq.txt')));
    expect(await inspectBinary(bin)).toBe(first); // same binary: not run again
    writeFileSync(bin, script('upgraded to v1.1.2'));
    const second = await inspectBinary(bin);
    expect(second.help!.flags.some((f) => f.name === '--lb-mode')).toBe(true);
  });
});

describe('run_scheduler checks the name and flags first', () => {
  it('on a host with an installed binary, against its --help', async () => {
    const host = fakeHost();
    const bin = tempDir('tuneloop-oldbin-');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'scx_p2dq'), `#!/bin/sh\nFAKE_SCX_HELP="${join(FIXTURES, 'help', 'real', 'scx_p2dq.txt')}" exec "${join(FAKE_BIN, 'scx_p2dq')}" "$@"\n`);
    chmodSync(join(bin, 'scx_p2dq'), 0o755);
    const { call } = await connectInMemory({ ...host.env, TUNELOOP_SCHED_DIRS: bin });
    const result = await call('run_scheduler', { scheduler: 'scx_p2dq', flags: ['--lb-mode', 'load'] });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain(`--lb-mode is not a flag of scx_p2dq according to the installed ${join(bin, 'scx_p2dq')} --help`);
    expect(host.read('enable_seq')).toBe('0');
  });

  it('on a host without sched_ext or the binary, against the catalog, before saying sched_ext is missing', async () => {
    const { call } = await connectInMemory({ PATH: '/nonexistent', TUNELOOP_SYSFS_ROOT: tempDir('tuneloop-nosched-') });
    const bad = await call('run_scheduler', { scheduler: 'scx_bpfland', flags: ['-vv'] });
    expect(textOf(bad)).toContain('Invalid flags for scx_bpfland (checked against the scx 1.1.2 catalog (the binary is not installed here))');
    expect(textOf(bad)).toContain('--verbose is given 2 times');
    const unknown = await call('run_scheduler', { scheduler: 'scx_nonesuch' });
    expect(textOf(unknown)).toContain('Unknown scheduler "scx_nonesuch"');
    expect(textOf(unknown)).toContain('scx_pandemonium');
    const good = await call('run_scheduler', { scheduler: 'scx_bpfland', flags: ['-v', '--slice-us', '5000'] });
    expect(good.isError).toBe(true);
    expect(textOf(good)).toContain('This kernel has no sched_ext');
  });

  it('refuses unknown keys and a bad flag before anything starts', async () => {
    const host = fakeHost();
    const { call } = await connectInMemory(host.env);
    const result = await call('run_scheduler', { scheduler: 'scx_bpfland', flags: ['--slice-us', 'lots'] });
    expect(textOf(result)).toContain(`Invalid flags for scx_bpfland (checked against the installed ${join(FAKE_BIN, 'scx_bpfland')} --help)`);
    expect(textOf(result)).toContain('--slice-us expects an integer');
    expect(textOf(result)).toContain('allow_unlisted_flags');
    expect(host.read('state')).toBe('disabled');
    const extraKey = await call('run_scheduler', { scheduler: 'scx_bpfland', flag: [] });
    expect(extraKey.isError).toBe(true);
    expect(textOf(extraKey)).toContain('"flag"');
  });
});
