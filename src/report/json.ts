import type { ConnectionResult, Report } from './model.js';

export function renderJson(r: Report): string {
  return JSON.stringify(r, null, 2) + '\n';
}

/** One line per connection, for streaming large captures. */
export function renderJsonlLine(c: ConnectionResult): string {
  return JSON.stringify(c) + '\n';
}

/** The closing line of a jsonl stream: the report without its connections. */
export function renderJsonlSummary(r: Report): string {
  const { connections: _c, ...rest } = r;
  return JSON.stringify({ type: 'summary', ...rest }) + '\n';
}
