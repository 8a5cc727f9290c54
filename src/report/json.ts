import type { ConnectionResult, Report } from './model.js';

export function renderJson(r: Report): string {
  return JSON.stringify(r, null, 2) + '\n';
}

/**
 * Exactly what renderJson returns, in pieces: one connection at a time instead of one string of
 * the whole report, which on a capture of 50,000 connections is hundreds of megabytes.
 */
export function* jsonPieces(r: Report): Generator<string> {
  const keys = Object.keys(r) as (keyof Report)[];
  yield '{\n';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const end = i === keys.length - 1 ? '\n' : ',\n';
    if (k === 'connections' && r.connections.length > 0) {
      yield '  "connections": [\n';
      for (let j = 0; j < r.connections.length; j++) {
        yield '    ' + JSON.stringify(r.connections[j], null, 2).replace(/\n/g, '\n    ') + (j === r.connections.length - 1 ? '\n' : ',\n');
      }
      yield '  ]' + end;
      continue;
    }
    yield `  ${JSON.stringify(k)}: ${JSON.stringify(r[k], null, 2).replace(/\n/g, '\n  ')}${end}`;
  }
  yield '}\n';
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
