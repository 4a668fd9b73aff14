export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
  /** The event's `id:` field, when it has one. */
  id?: string;
}

/** Parses a complete server-sent-event body into its events, in order. */
export function parseSse(body: string): SseEvent[] {
  return body
    .split('\n\n')
    .filter((frame) => frame.trim())
    .map((frame) => {
      const lines = frame.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
      const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}
