/**
 * The children exec.ts started and that are still running, for the shutdown paths. Apart from exec.ts
 * so that a server process (runtime, lifecycle) can stop them without loading execa at start-up:
 * execa loads with the first tool that starts a process.
 */

/** What shutdown needs of a running child (exec.ts's Child). */
export interface TrackedChild {
  readonly result: Promise<unknown>;
  signalGroup(signal: NodeJS.Signals): void;
}

const live = new Set<TrackedChild>();

export function trackChild(child: TrackedChild): void {
  live.add(child);
}

export function untrackChild(child: TrackedChild): void {
  live.delete(child);
}

/** Shutdown: SIGTERM every child still running, SIGKILL what is left after `graceMs`. */
export async function terminateAllChildren(graceMs = 500): Promise<void> {
  const children = [...live];
  for (const c of children) c.signalGroup('SIGTERM');
  const all = Promise.all(children.map((c) => c.result));
  const timer = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
  if ((await Promise.race([all.then(() => 'done'), timer])) !== 'done') {
    for (const c of children) c.signalGroup('SIGKILL');
    await all;
  }
}

/** Synchronous last resort for process 'exit': SIGKILL everything still contained. */
export function killAllChildrenNow(): void {
  for (const c of live) c.signalGroup('SIGKILL');
}

export function liveChildCount(): number {
  return live.size;
}
