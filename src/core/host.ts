import { arch, cpus, hostname, release, totalmem } from 'node:os';

/** Facts about this host that every recorded run carries, so runs from different machines never mix silently. */
export interface HostContext {
  host: string;
  kernel: string;
  arch: string;
  cpu_model: string;
  cpus: number;
  memory_gib: number;
}

let cached: HostContext | undefined;

export function hostContext(): HostContext {
  if (!cached) {
    const list = cpus();
    cached = {
      host: hostname(),
      kernel: release(),
      arch: arch(),
      cpu_model: list[0]?.model?.trim() ?? 'unknown',
      cpus: list.length,
      memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    };
  }
  return cached;
}
