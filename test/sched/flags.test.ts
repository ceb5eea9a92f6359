/**
 * Flag validation against the catalog (unit level), then through run_scheduler: a bad flag must be
 * refused before anything starts, with a message that names the flag and what it accepts.
 */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { findCatalogScheduler, loadCatalog } from '../../src/sched/catalog.js';
import { validateFlags } from '../../src/sched/flags.js';
import { connectInMemory, textOf } from '../helpers/runtime.js';
import { fakeHost } from './helpers.js';

const catalog = loadCatalog();
const spec = (name: string) => {
  const s = findCatalogScheduler(catalog, name)!;
  return { scheduler: s.name, flags: [...s.flags, ...catalog.common_flags], notRunnable: catalog.not_runnable_flags, positional: s.positional };
};
const problems = (name: string, argv: string[], allow = false): string => {
  try {
    validateFlags(spec(name), argv, allow);
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as UserError).message;
  }
};

describe('validateFlags', () => {
  it.each([
    [['--slice-us', '5000'], 'scx_bpfland'],
    [['--slice-us=5000', '--local-pcpu', '-vv', '--stats', '1.5'], 'scx_bpfland'],
    [['--idle-resume-us', '-1'], 'scx_bpfland'],
    [['-t', '500,2500,5000', '--lb-mode', 'nr_queued', '-q', '4'], 'scx_p2dq'],
    [['--performance', '--slice-max-us', '3000'], 'scx_lavd'],
    [['--slice-us', '20000', 'file:/etc/scx/layers.json'], 'scx_layered'],
    [['--interval', '0.5', '-u', '15000'], 'scx_rusty'],
  ])('accepts %j for %s', (argv, name) => {
    expect(problems(name, argv)).toBe('');
  });

  it.each([
    ['scx_bpfland', ['--slice-usec', '5000'], '--slice-usec is not a flag of scx_bpfland in the catalog. Did you mean --slice-us?'],
    ['scx_bpfland', ['--slice-us', 'fast'], '--slice-us expects an integer (1 to 1000000 us), got "fast".'],
    ['scx_bpfland', ['--slice-us', '0'], '--slice-us=0 is out of range: 1 to 1000000 us.'],
    ['scx_bpfland', ['--slice-us'], '--slice-us needs a value (an integer (1 to 1000000 us)).'],
    ['scx_bpfland', ['--local-pcpu=yes'], '--local-pcpu takes no value (it is a switch); got "yes".'],
    ['scx_bpfland', ['--slice-us', '1000', '--slice-us', '2000'], '--slice-us is given 2 times; give it once.'],
    ['scx_bpfland', ['--monitor', '1'], '--monitor does not load a scheduler'],
    ['scx_bpfland', ['--help'], '--help prints help and exits'],
    ['scx_bpfland', ['extra'], 'scx_bpfland takes no positional arguments, got 1'],
    ['scx_lavd', ['--performance', '--powersave'], '--powersave and --performance are mutually exclusive (power-mode); choose one.'],
    ['scx_lavd', ['--preempt-shift', '11'], '--preempt-shift=11 is out of range: 0 to 10.'],
    ['scx_p2dq', ['--lb-mode', 'random'], '--lb-mode expects one of load, nr_queued, got "random".'],
    ['scx_p2dq', ['-t', '500;2500'], '--dsq-time-slices expects comma-separated integers, e.g. 500,2500,5000, got "500;2500".'],
    ['scx_rusty', ['--interval', 'NaN'], '--interval expects a number (0.01 to 60 s), got "NaN".'],
    ['scx_layered', ['--slice-us', '1000'], 'scx_layered needs its specs argument'],
  ])('%s refuses %j', (name, argv, message) => {
    expect(problems(name, argv)).toContain(message);
  });

  it('lists every problem at once', () => {
    const text = problems('scx_bpfland', ['--slice-us', 'x', '--nope', '--disable-smt=1']);
    expect(text.split('\n- ')).toHaveLength(4);
  });

  it('passes unlisted flags through with allow_unlisted_flags, still checking known ones', () => {
    expect(problems('scx_chaos', ['--random-delay-frequency', '0.1', '--cpufreq'], true)).toBe('');
    expect(problems('scx_bpfland', ['--brand-new-flag', '--slice-us', '-5'], true)).toContain('--slice-us=-5 is out of range');
  });
});

describe('run_scheduler refuses bad flags before starting anything', () => {
  it('names the flag, the expected type and the remedy', async () => {
    const host = fakeHost();
    const { call } = await connectInMemory(host.env);
    const result = await call('run_scheduler', { scheduler: 'scx_bpfland', flags: ['--slice-us', 'lots'] });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('Invalid flags for scx_bpfland');
    expect(textOf(result)).toContain('--slice-us expects an integer');
    expect(textOf(result)).toContain('allow_unlisted_flags');
    expect(host.read('state')).toBe('disabled');
    expect(host.read('enable_seq')).toBe('0');

    const unknown = await call('run_scheduler', { scheduler: 'scx_nonesuch' });
    expect(textOf(unknown)).toContain('Unknown scheduler "scx_nonesuch"');
    expect(textOf(unknown)).toContain('scx_lavd');

    const extraKey = await call('run_scheduler', { scheduler: 'scx_bpfland', flag: [] });
    expect(extraKey.isError).toBe(true);
    expect(textOf(extraKey)).toContain('"flag"');
  });
});
