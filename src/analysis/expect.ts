import type { Report } from '../report/model.js';
import { endpointMatcher, globToRegExp } from './filter.js';

export interface Expectation {
  /** null: the whole capture; else an SNI glob or a server address (`ip`, `ip:port`, `[v6]:port`). */
  target: string | null;
  ratio: number;
}

/** Parses `0.8`, `80%`, `shop.example.com=0.9`, `10.0.0.2:443=0.9`, `*.example.com=75%`. */
export function parseExpectation(spec: string): Expectation | { error: string } {
  const eq = spec.lastIndexOf('=');
  const target = eq >= 0 ? spec.slice(0, eq).trim() : null;
  const value = (eq >= 0 ? spec.slice(eq + 1) : spec).trim();
  const pct = value.endsWith('%');
  const n = Number(pct ? value.slice(0, -1) : value);
  const ratio = pct ? n / 100 : n;
  if (value === '' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    return { error: `--expect-resumption '${spec}': give a ratio from 0 to 1 (or a percentage), optionally as SERVER=RATIO` };
  }
  if (target === '') return { error: `--expect-resumption '${spec}': empty server before '='` };
  return { target, ratio };
}

function looksLikeAddress(t: string): boolean {
  return /^\[.*\](:\d+)?$/.test(t) || /^\d+\.\d+\.\d+\.\d+(:\d+)?$/.test(t) || (t.includes(':') && !t.includes('*'));
}

/**
 * Checks the resumption rate (resumed ÷ offered) against each expectation. Returns one line per
 * shortfall, naming the server and by how much; an empty list means every expectation held.
 */
export function checkExpectations(r: Report, exps: Expectation[]): string[] {
  const out: string[] = [];
  const fmt = (x: number) => `${(x * 100).toFixed(1)}%`;
  for (const e of exps) {
    if (e.target === null) {
      const rate = r.summary.resumptionRateOffered;
      if (rate === null) {
        if (e.ratio > 0) out.push(`resumption: no connection offered resumption (expected at least ${fmt(e.ratio)})`);
      } else if (rate < e.ratio) {
        out.push(
          `resumption: ${fmt(rate)} of ${r.summary.offeredResumption} offers accepted, expected at least ${fmt(e.ratio)} (short by ${fmt(e.ratio - rate)})`,
        );
      }
      continue;
    }
    const byAddr = looksLikeAddress(e.target);
    const m = byAddr ? endpointMatcher(e.target) : null;
    const re = byAddr ? null : globToRegExp(e.target);
    const servers = r.servers.filter((s) => (m ? m(s.server) : s.sni !== null && re!.test(s.sni)));
    if (servers.length === 0) {
      out.push(`${e.target}: no TLS connections to it in the capture (expected resumption of at least ${fmt(e.ratio)})`);
      continue;
    }
    for (const s of servers) {
      const name = `${s.server.ip.includes(':') ? `[${s.server.ip}]` : s.server.ip}:${s.server.port}${s.sni ? ` (${s.sni})` : ''}`;
      if (s.resumptionRate === null) {
        if (e.ratio > 0) out.push(`${name}: no connection offered resumption (expected at least ${fmt(e.ratio)})`);
      } else if (s.resumptionRate < e.ratio) {
        out.push(
          `${name}: ${fmt(s.resumptionRate)} of ${s.offered} offers accepted, expected at least ${fmt(e.ratio)} (short by ${fmt(e.ratio - s.resumptionRate)})`,
        );
      }
    }
  }
  return out;
}
