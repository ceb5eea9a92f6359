/**
 * NCCL's example tuner plugin, re-implemented from its source (NVIDIA/nccl
 * plugins/tuner/example/plugin.c at v2.30.7; ext-tuner/example/plugin.c in 2.27.5-2.28 reads the
 * CSV the same way) to read a CSV exactly as the plugin does and answer what NCCL gets for a call:
 * - loadConfig(): fgets() with a 256-byte buffer, lines starting with '#' or '\n' skipped, fields
 *   split by strtok(",") (empty fields vanish), blanks and tabs trimmed, 8 to 10 fields accepted;
 *   collective, algorithm and protocol compared with strcmp, unknown names becoming allreduce, ring
 *   and simple; min/max bytes read with strtoull (64-bit size_t), the rest with atoi; missing
 *   numPipeOps/regBuff mean -1 (any);
 * - pluginGetCollInfo(): *nChannels = 1 first; the first line matching collective, size
 *   (inclusive), nNodes, nRanks, numPipeOps and regBuff (-1 = any) whose algorithm/protocol is
 *   not marked IGNORE by NCCL wins: its cost becomes 0 and, unless channels is -1, its channels
 *   replace the 1.
 */
const MAX_LINE_LENGTH = 256;
const COLLECTIVES = ['broadcast', 'reduce', 'allgather', 'reducescatter', 'allreduce'];
const ALGORITHMS = ['tree', 'ring', 'collnet_direct', 'collnet_chain', 'nvls', 'nvls_tree', 'pat'];
const PROTOCOLS = ['ll', 'll128', 'simple'];

export interface PluginConfig {
  collType: string;
  minBytes: bigint;
  maxBytes: bigint;
  algorithm: string;
  protocol: string;
  nChannels: number;
  nNodes: number;
  nRanks: number;
  numPipeOps: number;
  regBuff: number;
}

/** fgets(line, 256, file): at most 255 characters per read, the newline included when it fits. */
function fgetsLines(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const nl = text.indexOf('\n', i);
    const end = Math.min(nl === -1 ? text.length : nl + 1, i + MAX_LINE_LENGTH - 1);
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}

function strtoull(s: string): bigint {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(s)!;
  if (m[2] === '') return 0n;
  const max = 2n ** 64n - 1n;
  let v = BigInt(m[2]);
  if (v > max) v = max;
  return m[1] === '-' ? (2n ** 64n - v) % 2n ** 64n : v;
}

function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number.parseInt(m[1], 10) : 0;
}

function trim(token: string): string {
  let start = 0;
  while (token[start] === ' ' || token[start] === '\t') start++;
  let end = token.length;
  while (end - 1 > start && (token[end - 1] === ' ' || token[end - 1] === '\t')) end--;
  return token.slice(start, end);
}

export function loadConfig(text: string): PluginConfig[] {
  const configs: PluginConfig[] = [];
  for (const raw of fgetsLines(text)) {
    if (raw[0] === '#' || raw[0] === '\n') continue;
    const line = raw.split('\n')[0];
    const tokens = line.split(',').filter((t) => t !== '').slice(0, 10).map(trim);
    if (tokens.length < 8) continue;
    configs.push({
      collType: COLLECTIVES.includes(tokens[0]) ? tokens[0] : 'allreduce',
      minBytes: strtoull(tokens[1]),
      maxBytes: strtoull(tokens[2]),
      algorithm: ALGORITHMS.includes(tokens[3]) ? tokens[3] : 'ring',
      protocol: PROTOCOLS.includes(tokens[4]) ? tokens[4] : 'simple',
      nChannels: atoi(tokens[5]),
      nNodes: atoi(tokens[6]),
      nRanks: atoi(tokens[7]),
      numPipeOps: tokens.length >= 9 ? atoi(tokens[8]) : -1,
      regBuff: tokens.length >= 10 ? atoi(tokens[9]) : -1,
    });
  }
  return configs;
}

export interface CollInfo {
  /** The algorithm/protocol whose cost the plugin set to 0, or null when no line matched. */
  algorithm: string | null;
  protocol: string | null;
  nChannels: number;
}

export function getCollInfo(
  configs: PluginConfig[],
  comm: { nNodes: number; nRanks: number },
  call: { collType: string; nBytes: bigint; numPipeOps?: number; regBuff?: number; ignored?: (algorithm: string, protocol: string) => boolean },
): CollInfo {
  let nChannels = 1;
  for (const c of configs) {
    const matches =
      c.collType === call.collType &&
      call.nBytes >= c.minBytes &&
      call.nBytes <= c.maxBytes &&
      (c.nNodes === -1 || c.nNodes === comm.nNodes) &&
      (c.nRanks === -1 || c.nRanks === comm.nRanks) &&
      (c.numPipeOps === -1 || c.numPipeOps === (call.numPipeOps ?? 1)) &&
      (c.regBuff === -1 || c.regBuff === (call.regBuff ?? 0));
    if (!matches || call.ignored?.(c.algorithm, c.protocol)) continue;
    if (c.nChannels !== -1) nChannels = c.nChannels;
    return { algorithm: c.algorithm, protocol: c.protocol, nChannels };
  }
  return { algorithm: null, protocol: null, nChannels };
}
