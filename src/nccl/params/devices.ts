/**
 * Device lists: NCCL_SOCKET_IFNAME, NCCL_OOB_NET_IFNAME and NCCL_IB_HCA. NCCL reads a leading '^'
 * (exclude) and then a leading '=' (exact names) once, at the start of the value only, and splits
 * the rest with parseStringList() (src/misc/utils.cc): comma-separated entries, empty ones skipped,
 * each "name[:port[:rail[:plane]]]" with numbers read by atoi(). Since 2.30.5 empty fields mean
 * "any"/"unassigned" and rail and plane are read; before, only the port was read (atoi of what
 * follows the first ':', so an empty port is port 0, which matches nothing).
 */
import { atLeast } from './versions.js';
import type { ParamSpec } from './table.js';
import type { ProblemList } from './problem.js';

const MAX_IB_DEVS = 32;

interface Split {
  exclude: boolean;
  exact: boolean;
  entries: string[];
}

/** The leading ^ and =, then the entries; stray commas and later ^/= are reported. */
function splitList(p: ParamSpec, value: string, problems: ProblemList): Split {
  const exclude = value.startsWith('^');
  const rest = exclude ? value.slice(1) : value;
  const exact = rest.startsWith('=');
  const body = exact ? rest.slice(1) : rest;
  const raw = body.split(',');
  if (raw.some((e) => e === '')) problems.warn(p.name, `${p.name}="${value}" has an empty entry (a stray ','): NCCL skips it.`, { token: ',' });
  const entries = raw.filter((e) => e !== '');
  if (value.startsWith('=^')) {
    problems.error(p.name, `${p.name}="${value}": NCCL reads '^' only before '=' ("^=name"); here "^${entries[0]?.slice(1) ?? ''}" is taken as a literal name that matches no device.`, {
      token: '=^',
      suggestion: `^=${body.slice(1)}`,
    });
  }
  entries.forEach((entry, i) => {
    if (i === 0 && value.startsWith('=^')) return;
    const marker = /^[\^=]+/.exec(entry)?.[0];
    if (marker) {
      const effect = exclude ? 'so that device is NOT excluded' : 'so it matches no device';
      problems.warn(p.name, `"${entry}" in ${p.name}: NCCL reads '${marker}' only at the start of the whole value; inside the list it is part of the name, ${effect}. Write the list as ${exclude ? '^' : ''}${exact ? '=' : ''}name,name,...`, {
        token: entry,
        suggestion: `${exclude ? '^' : ''}${exact || marker.includes('=') ? '=' : ''}${entries.map((e) => e.replace(/^[\^=]+/, '')).join(',')}`,
      });
    }
  });
  return { exclude, exact, entries };
}

/** NCCL_SOCKET_IFNAME / NCCL_OOB_NET_IFNAME: [^][=]name[:port],... */
export function checkIfnameList(p: ParamSpec, value: string, problems: ProblemList): string | undefined {
  const { exclude, exact, entries } = splitList(p, value, problems);
  let ok = entries.length > 0;
  if (!ok) problems.error(p.name, `${p.name}="${value}" names no interface: NCCL then finds none to use.`, { token: value });
  for (const entry of entries) {
    if (/\s/.test(entry)) {
      problems.error(p.name, `Interface "${entry}" in ${p.name} contains whitespace: NCCL compares it literally and it matches no interface.`, { token: entry, suggestion: entry.trim() });
      ok = false;
    }
    const name = entry.split(':')[0];
    if (!exclude && /^(lo|docker\d*|virbr\d*|veth)$/.test(name)) {
      problems.warn(p.name, `${p.name} selects "${name}", a loopback or virtual interface: inter-node traffic will fail or crawl over it.`, { token: entry });
    }
    if (!exact && /\d$/.test(name)) warnPrefix(p, name, entry, value, exclude, problems);
  }
  return ok ? value : undefined;
}

/** NCCL_IB_HCA: [^][=]hca[:port[:rail[:plane]]],... */
export function checkHcaList(p: ParamSpec, value: string, problems: ProblemList, version?: string): string | undefined {
  const { exclude, exact, entries } = splitList(p, value, problems);
  const v = version ?? '99';
  const railPlane = atLeast(v, p.syntax_since?.rail_plane);
  let ok = entries.length > 0;
  if (!ok) problems.error(p.name, `${p.name}="${value}" names no device.`, { token: value });
  if (entries.length > MAX_IB_DEVS) problems.warn(p.name, `${p.name} lists ${entries.length} devices; NCCL reads at most ${MAX_IB_DEVS}.`, { token: entries[MAX_IB_DEVS] });
  for (const entry of entries) {
    const [name, port, rail, plane, ...extra] = entry.split(':');
    const fail = (message: string, suggestion?: string) => {
      problems.error(p.name, `Device "${entry}" in ${p.name}: ${message}`, { token: entry, ...(suggestion ? { suggestion } : {}) });
      ok = false;
    };
    if (name === '') {
      fail('the device name is empty, so NCCL skips the entry.');
      continue;
    }
    if (/\s/.test(entry)) {
      fail('it contains whitespace; NCCL compares names literally and it matches no device.', entry.replace(/\s+/g, ''));
      continue;
    }
    if (port !== undefined) {
      if (port === '' && !railPlane) fail(`an empty port is read as port 0 by NCCL ${version} (empty fields mean "all ports" only since ${p.syntax_since?.rail_plane}), which matches no port.`, name);
      else if (port !== '' && !/^[1-9]\d*$/.test(port)) fail(`the port "${port}" is not a positive integer; NCCL reads it with atoi (${Number.parseInt(port, 10) || 0}), so ${Number.parseInt(port, 10) > 0 ? 'part of it is dropped' : 'it matches no port'}. Expected hca[:port[:rail[:plane]]].`, `${name}:1`);
    }
    const more = [rail, plane].filter((f) => f !== undefined);
    if (more.length && !railPlane) {
      problems.warn(p.name, `Device "${entry}": NCCL ${version} reads only hca:port and ignores the rail/plane fields (read since ${p.syntax_since?.rail_plane}).`, { token: entry });
    } else if (more.some((f) => f !== '' && !/^\d+$/.test(f))) {
      fail('rail and plane must be non-negative integers (NCCL reads them with atoi).');
    }
    if (extra.length) problems.warn(p.name, `Device "${entry}": NCCL reads at most hca:port:rail:plane and ignores the rest.`, { token: entry });
    if (!exact && /\d$/.test(name)) warnPrefix(p, name, entry, value, exclude, problems);
  }
  return ok ? value : undefined;
}

/** Without '=', names are prefixes: mlx5_1 also selects (or excludes) mlx5_10 ... mlx5_19. */
function warnPrefix(p: ParamSpec, name: string, entry: string, value: string, exclude: boolean, problems: ProblemList): void {
  const body = exclude ? value.slice(1) : value;
  problems.warn(p.name, `"${name}" without '=' is a prefix: it also ${exclude ? 'excludes' : 'matches'} ${name}0, ${name}1 ... Start the list with '=' for exact names.`, {
    token: entry,
    suggestion: `${exclude ? '^' : ''}=${body}`,
  });
}
