/**
 * Resumability for one HTTP session: the SDK's Streamable HTTP transport stores every message it
 * sends on an SSE stream here, with an event id, and replays what followed a `Last-Event-ID` when
 * the client reconnects. So progress of a long tool call and its final answer survive a dropped
 * connection. Bounded: a session keeps its last MAX_EVENTS messages (a client that stays away longer
 * re-polls the job with job_status, which needs nothing from here), and they go with the session.
 */
import type { EventId, EventStore, StreamId } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

const MAX_EVENTS = 2000;

export class SessionEventStore implements EventStore {
  private readonly events = new Map<EventId, { streamId: StreamId; message: JSONRPCMessage }>();
  private next = 0;

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    // Ids sort in the order of sending; the stream id travels inside the id.
    const id = `${streamId}_${String(this.next++).padStart(12, '0')}`;
    this.events.set(id, { streamId, message });
    if (this.events.size > MAX_EVENTS) this.events.delete(this.events.keys().next().value!);
    return id;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return this.events.get(eventId)?.streamId ?? streamOf(eventId);
  }

  async replayEventsAfter(lastEventId: EventId, { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const streamId = streamOf(lastEventId);
    if (!streamId) return '';
    for (const [id, event] of this.events) {
      if (event.streamId === streamId && id > lastEventId) await send(id, event.message);
    }
    return streamId;
  }
}

function streamOf(eventId: EventId): StreamId | undefined {
  const cut = eventId.lastIndexOf('_');
  return cut > 0 ? eventId.slice(0, cut) : undefined;
}
