import { describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendCappedLog, CappedLogFile } from '../../src/core/capture.js';
import { tempDir } from '../helpers/tmp.js';

const MARKER = /\n\[\.\.\. (\d+) bytes omitted by tuneloop \.\.\.\]\n/;

describe('CappedLogFile', () => {
  it('writes plainly up to head + 2 x tail bytes', () => {
    const path = join(tempDir(), 'log');
    const log = new CappedLogFile(path, 100, 200);
    log.write('x'.repeat(500));
    log.close();
    expect(readFileSync(path, 'utf8')).toBe('x'.repeat(500));
  });

  it('then keeps the head, a marker with the bytes dropped so far, and the tail from a line start', () => {
    const path = join(tempDir(), 'log');
    const log = new CappedLogFile(path, 100, 200);
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}\n`);
    for (const line of lines) log.write(line);
    log.close();
    const all = lines.join('');
    const text = readFileSync(path, 'utf8');
    expect(statSync(path).size).toBeLessThanOrEqual(100 + 64 + 2 * 200);
    expect(text.slice(0, 100)).toBe(all.slice(0, 100));
    const marker = MARKER.exec(text.slice(100))!;
    expect(marker.index).toBe(0);
    const tail = text.slice(100 + marker[0].length);
    expect(all.endsWith(tail)).toBe(true);
    expect(tail.startsWith('line ')).toBe(true);
    // Every byte is accounted for: head + omitted + tail = everything written.
    expect(100 + Number(marker[1]) + tail.length).toBe(all.length);
  });

  it('counts across writers of the same file (a job log and its children)', () => {
    const path = join(tempDir(), 'log');
    const job = new CappedLogFile(path, 100, 200);
    const child = new CappedLogFile(path, 100, 200);
    let all = '';
    for (let i = 0; i < 400; i++) {
      const line = `${i % 2 ? 'child' : 'job'} ${i}\n`;
      (i % 2 ? child : job).write(line);
      all += line;
    }
    job.close();
    child.close();
    const text = readFileSync(path, 'utf8');
    const marker = MARKER.exec(text)!;
    const tail = text.slice(marker.index + marker[0].length);
    expect(text.slice(0, 100)).toBe(all.slice(0, 100));
    expect(all.endsWith(tail)).toBe(true);
    expect(100 + Number(marker[1]) + tail.length).toBe(all.length);
  });

  it('appendCappedLog appends one line', () => {
    const path = join(tempDir(), 'log');
    writeFileSync(path, 'a\n');
    appendCappedLog(path, 'b\n');
    expect(readFileSync(path, 'utf8')).toBe('a\nb\n');
  });
});
