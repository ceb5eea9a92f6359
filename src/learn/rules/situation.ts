/** The facts a rule is matched against. */
import { hostContext } from '../../core/host.js';
import type { Store } from '../../core/store.js';
import { findWorkload } from '../workloads.js';
import type { Situation } from './context.js';

/** The situation to match: the given facts, then the workload's class and tags, then this host's facts. */
export function situationFor(store: Store, given: Situation, workloadRef: string | undefined, fromHost: boolean): Situation {
  const facts: Situation = { ...given };
  if (workloadRef) {
    const w = findWorkload(store, workloadRef);
    facts.workload ??= w.name;
    if (w.classification) facts.classification ??= w.classification;
    if (w.tags.length) facts.tags ??= w.tags;
  }
  if (fromHost) {
    const h = hostContext();
    facts.host ??= h.host;
    facts.kernel ??= h.kernel;
    facts.cpu_model ??= h.cpu_model;
    facts.cpus ??= h.cpus;
  }
  return facts;
}
