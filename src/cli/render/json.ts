import type { EventSink } from '../../core/events.js';

/** One JSON object per line per event, for machines. Secrets are already masked in every event. */
export function jsonRenderer(write: (line: string) => void): EventSink {
  return (event) => write(JSON.stringify(event));
}
