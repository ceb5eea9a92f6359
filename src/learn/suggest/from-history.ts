/**
 * The suggester fed from the store: observations from recorded runs, the defaults and matching
 * rules as seeds. suggest_config and the adaptive modes of the execution tools both come here.
 */
import type { Store } from '../../core/store.js';
import { matchRules, type RuleMatch } from '../rules/store.js';
import type { Situation } from '../rules/context.js';
import { situationFor } from '../rules/situation.js';
import { collectObservations, ruleSeeds, type ObservationFilter, type Observations } from './observations.js';
import { defaultPoint, type Space } from './space.js';
import { suggest, type ConfigObservation, type Seed, type Suggestion } from './suggester.js';

export interface HistorySuggestion extends Suggestion {
  observations: Observations;
  rules: RuleMatch[];
}

export function suggestFromHistory(
  store: Store,
  space: Space,
  filter: ObservationFilter & { workloadName?: string },
  options: {
    count: number;
    seed: number;
    useRules: boolean;
    facts?: Situation;
    /** Observations beyond history for the model only (the adaptive loop's failed configs at the worst value). */
    extra?: ConfigObservation[];
  },
): HistorySuggestion {
  const observations = collectObservations(store, space, filter);
  const situation = situationFor(store, options.facts ?? {}, filter.workloadName, true);
  const rules = options.useRules ? matchRules(store, situation, { domain: filter.domain, minScore: 0.2, limit: 5 }) : [];
  const defaults = defaultPoint(space.params);
  const seeds: Seed[] = [
    ...(Object.keys(defaults).length ? [{ point: defaults, kind: 'default' as const, reason: 'The defaults: the baseline every gain is measured against.' }] : []),
    ...ruleSeeds(space, rules),
  ];
  const result = suggest(space, [...observations.configs, ...(options.extra ?? [])], { direction: observations.direction, count: options.count, seed: options.seed, seeds });
  return { ...result, observations, rules };
}
