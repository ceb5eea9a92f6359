import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { parseGpuLine, queryGpus } from '../../src/core/nvidia.js';

const FAKE_BIN = resolve(import.meta.dirname, '../fixtures/incidents/bin');

describe('parseGpuLine', () => {
  it('turns unsupported fields into null with the reason, never zero', () => {
    const row = parseGpuLine('0, NVIDIA GeForce RTX 4090, [N/A], [Not Supported], 42', ['index', 'name', 'power.draw', 'ecc.errors.corrected.volatile.total', 'temperature.gpu']);
    expect(row).toEqual({
      index: { value: 0 },
      name: { value: 'NVIDIA GeForce RTX 4090' },
      'power.draw': { value: null, reason: 'not available' },
      'ecc.errors.corrected.volatile.total': { value: null, reason: 'not supported by this GPU' },
      'temperature.gpu': { value: 42 },
    });
  });

  it('keeps a product name with a comma whole and text fields as text', () => {
    const row = parseGpuLine('1, Tesla V100-SXM2-16GB, Rev A, 00000000:3B:00.0, 0', ['index', 'name', 'pci.bus_id', 'utilization.gpu']);
    expect(row.name.value).toBe('Tesla V100-SXM2-16GB, Rev A');
    expect(row['pci.bus_id'].value).toBe('00000000:3B:00.0');
    expect(row['utilization.gpu'].value).toBe(0);
  });
});

describe('queryGpus', () => {
  it('queries a (fake) nvidia-smi found on PATH', async () => {
    const rows = await queryGpus(loadConfig({}, { PATH: FAKE_BIN }), ['index', 'name', 'power.draw', 'fan.speed']);
    expect(rows).toHaveLength(2);
    expect(rows[0]['power.draw']).toEqual({ value: 688.41 });
    expect(rows[1]['power.draw']).toEqual({ value: 512.1 });
    expect(rows[0]['fan.speed']).toEqual({ value: null, reason: 'not available' });
  });

  it('says how to install nvidia-smi when it is missing', async () => {
    await expect(queryGpus(loadConfig({}, { PATH: '/nonexistent' }), ['index'])).rejects.toThrow(/nvidia-smi was not found/);
  });

  it('surfaces nvidia-smi failures with its message', async () => {
    await expect(queryGpus(loadConfig({}, { PATH: FAKE_BIN }), ['index', 'bogus.field'])).rejects.toThrow(/nvidia-smi failed: Field "bogus.field" is not a valid field/);
  });
});
