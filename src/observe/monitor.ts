/**
 * system_monitor sessions: several may run at once, each a Sampler. A session stops itself at its
 * max duration; `stop` returns its summary. Sessions live in the server process that started them
 * (the sampler reads this host's /proc). system_monitor is read-only (it is served under --read-only),
 * so it writes nothing: the summary goes to the client only (record_run stores what is worth keeping).
 */
import { randomBytes } from 'node:crypto';
import { UserError } from '../core/errors.js';
import type { Runtime } from '../core/runtime.js';
import { Sampler, type SamplerSummary } from '../core/sampler.js';

export const MAX_SESSIONS = 16;

interface Session {
  id: string;
  label: string | null;
  startedAt: string;
  sampler: Sampler;
}

export interface SessionStatus {
  session_id: string;
  label: string | null;
  running: boolean;
  started_at: string;
  elapsed_s: number;
  samples: number;
  latest: Record<string, number>;
}

export class MonitorRegistry {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly runtime: Runtime) {
    runtime.onShutdown(() => {
      for (const s of this.sessions.values()) s.sampler.stop();
    });
  }

  start(options: { intervalMs: number; maxDurationS: number; label?: string; gpus?: boolean }): SessionStatus & { missing: SamplerSummary['missing'] } {
    if (this.sessions.size >= MAX_SESSIONS) {
      // Make room by dropping the oldest session that already ended by itself.
      const finished = [...this.sessions.values()].find((s) => !s.sampler.running);
      if (finished) this.stop(finished.id);
    }
    if (this.sessions.size >= MAX_SESSIONS) {
      throw new UserError(`${MAX_SESSIONS} monitor sessions already exist in this server.`, 'Stop one with system_monitor {action: "stop", session_id}.');
    }
    const id = `mon-${randomBytes(4).toString('hex')}`;
    const sampler = new Sampler(this.runtime.config, {
      intervalMs: options.intervalMs,
      maxDurationMs: options.maxDurationS * 1000,
      gpus: options.gpus,
    });
    const session: Session = { id, label: options.label ?? null, startedAt: new Date().toISOString(), sampler };
    this.sessions.set(id, session);
    return { ...this.status(session), missing: sampler.summary().missing };
  }

  list(): SessionStatus[] {
    return [...this.sessions.values()].map((s) => this.status(s));
  }

  get(id: string): SessionStatus {
    return this.status(this.find(id));
  }

  /** Stop (if still running), forget the session, return its summary. */
  stop(id: string): SessionStatus & { summary: SamplerSummary } {
    const session = this.find(id);
    session.sampler.stop();
    const summary = session.sampler.summary();
    this.sessions.delete(id);
    return { ...this.status(session), summary };
  }

  private find(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) {
      const known = [...this.sessions.keys()];
      throw new UserError(`No monitor session "${id}" in this server.`, known.length ? `Sessions: ${known.join(', ')}.` : 'Start one with system_monitor {action: "start"}.');
    }
    return s;
  }

  private status(s: Session): SessionStatus {
    return {
      session_id: s.id,
      label: s.label,
      running: s.sampler.running,
      started_at: s.startedAt,
      elapsed_s: Math.round(s.sampler.elapsedS * 10) / 10,
      samples: s.sampler.sampleCount,
      latest: { ...s.sampler.latest },
    };
  }
}
