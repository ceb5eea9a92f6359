/**
 * Slow: every case runs the built CLI, which starts a real server process.
 * The incident tools through `tuneloop call` (the built CLI over real stdio), as an on-call
 * engineer or a CI script would run them. Needs a fresh build (npm test builds first).
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../../src/core/exec.js';
import { CLI } from '../helpers/stdio.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/incidents');

async function tuneloopCall(tool: string, args: Record<string, unknown>, env: Record<string, string> = {}) {
  const r = await runCommand([process.execPath, CLI, 'call', tool, JSON.stringify(args)], { timeoutMs: 60_000, env: { TUNELOOP_HOME: tempDir(), ...env } });
  return { exitCode: r.exitCode, json: r.exitCode === 0 ? JSON.parse(r.stdout) : null, stdout: r.stdout, stderr: r.stderr };
}

describe('incident tools via tuneloop call', () => {
  it('diagnose_logs ranks the mixed incident', async () => {
    const files = ['kern.log', 'rank0.log', 'rank1.log', 'vllm.log'].map((f) => resolve(FIXTURES, 'mixed', f));
    const r = await tuneloopCall('diagnose_logs', { files, max_findings: 3 }, { TZ: 'UTC' });
    expect(r.exitCode).toBe(0);
    expect(r.json.findings.map((f: { case: string }) => f.case)).toEqual(['pcie_aer_fatal', 'xid_79', 'nccl_watchdog_timeout']);
    expect(r.json.findings_omitted.map((f: { case: string }) => f.case)).toEqual(['vllm_engine_dead', 'hung_task', 'xid_43_45', 'cpu_thermal_throttle']);
  });

  it('gpu_status reads the fake nvidia-smi on PATH', async () => {
    const r = await tuneloopCall('gpu_status', {}, { PATH: `${resolve(FIXTURES, 'bin')}:${process.env.PATH}`, FAKE_NVIDIA_SMI_PROFILE: 'h100' });
    expect(r.exitCode).toBe(0);
    expect(r.json.summary).toEqual({ healthy: 1, degraded: 0, unhealthy: 1 });
  });

  it('scrape_metrics reads a file, and a refused host exits 1 with the remedy', async () => {
    const ok = await tuneloopCall('scrape_metrics', { file: resolve(FIXTURES, 'metrics/vllm-2.prom'), match: '^vllm:kv_cache' });
    expect(ok.exitCode).toBe(0);
    expect(ok.json.vllm[0].kv_cache_usage).toBe(0.97);
    const refused = await tuneloopCall('scrape_metrics', { url: 'http://192.168.7.7:8000/metrics' });
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout + refused.stderr).toMatch(/TUNELOOP_METRICS_HOSTS=192\.168\.7\.7/);
  });
});
