import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isProcessAlive, processStartTime } from '../../src/core/proc.js';
import { waitFor } from '../helpers/proc.js';

const children: { kill: () => boolean }[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

function childrenOf(ppid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('isProcessAlive', () => {
  it('is true for a running process and false once its pid is gone', async () => {
    const child = spawn('sleep', ['30']);
    children.push(child);
    expect(isProcessAlive(child.pid!)).toBe(true);
    expect(isProcessAlive(child.pid!, processStartTime(child.pid!))).toBe(true);
    child.kill('SIGKILL');
    expect(await waitFor(() => !isProcessAlive(child.pid!), 5000)).toBe(true);
  });

  it('is false for a recycled pid: the start time differs', () => {
    expect(isProcessAlive(process.pid, '1')).toBe(false);
  });

  it('is false for a zombie: it has exited, though its parent has not reaped it', async () => {
    // sh forks `true`, then becomes `sleep`, which never waits: the exited `true` stays a zombie.
    const parent = spawn('sh', ['-c', 'true & exec sleep 30']);
    children.push(parent);
    let zombie: number | undefined;
    await waitFor(() => {
      zombie = childrenOf(parent.pid!).find((pid) => readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '));
      return zombie !== undefined;
    }, 5000);
    expect(zombie).toBeDefined();
    expect(() => process.kill(zombie!, 0)).not.toThrow(); // the kernel still has its pid
    expect(isProcessAlive(zombie!)).toBe(false);
  });
});
