import type { ConnectionResult } from '../report/model.js';
import type { Kind } from './types.js';

export interface FilterOptions {
  server?: string[];
  sni?: string[];
  client?: string[];
  kind?: string[];
  port?: number[];
}

const KINDS: Kind[] = ['full', 'resumed-session-id', 'resumed-ticket', 'resumed-psk', 'unknown'];

/** `*` and `?` wildcards, case-insensitive, whole name. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Parses `ip`, `ip:port`, `[v6]` or `[v6]:port` into a matcher. */
export function endpointMatcher(spec: string): (e: { ip: string; port: number }) => boolean {
  let ip = spec;
  let port: number | null = null;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (v6) {
    ip = v6[1];
    port = v6[2] ? Number(v6[2]) : null;
  } else if (/^[^:]+:\d+$/.test(spec)) {
    const i = spec.lastIndexOf(':');
    ip = spec.slice(0, i);
    port = Number(spec.slice(i + 1));
  }
  const lower = ip.toLowerCase();
  return (e) => e.ip.toLowerCase() === lower && (port === null || e.port === port);
}

export type FilterError = { error: string };

/** Builds a connection predicate from the CLI filters; every given filter must match (AND), values of one filter are alternatives (OR). */
export function buildFilter(o: FilterOptions): ((c: ConnectionResult) => boolean) | FilterError | null {
  const tests: ((c: ConnectionResult) => boolean)[] = [];
  if (o.server?.length) {
    const ms = o.server.map(endpointMatcher);
    tests.push((c) => ms.some((m) => m(c.server)));
  }
  if (o.client?.length) {
    const ms = o.client.map(endpointMatcher);
    tests.push((c) => ms.some((m) => m(c.client)));
  }
  if (o.sni?.length) {
    const res = o.sni.map(globToRegExp);
    tests.push((c) => c.sni !== null && res.some((re) => re.test(c.sni!)));
  }
  if (o.port?.length) {
    const ports = new Set(o.port);
    tests.push((c) => ports.has(c.server.port));
  }
  if (o.kind?.length) {
    const kinds = new Set<Kind>();
    let rejected = false;
    for (const k of o.kind) {
      if (k === 'resumed') ['resumed-session-id', 'resumed-ticket', 'resumed-psk'].forEach((x) => kinds.add(x as Kind));
      else if (k === 'rejected') rejected = true;
      else if ((KINDS as string[]).includes(k)) kinds.add(k as Kind);
      else return { error: `unknown --kind '${k}' (one of ${[...KINDS, 'resumed', 'rejected'].join(', ')})` };
    }
    tests.push((c) => c.tls && (kinds.has(c.kind) || (rejected && c.rejected === true)));
  }
  if (tests.length === 0) return null;
  return (c) => tests.every((t) => t(c));
}
