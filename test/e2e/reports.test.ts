import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marked } from 'marked';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, sample } from '../helpers/analyze.js';

const BIN = join(ROOT, 'bin', 'tlsflight.js');
const tmp = mkdtempSync(join(tmpdir(), 'tlsflight-reports-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('markdown report', () => {
  const r = run(['analyze', '-f', 'markdown', '--limit', '10', sample('postmortem.pcap')]);
  const html = marked.parse(r.out, { async: false }) as string;

  it('leads with the verdict and lists every finding with its evidence', () => {
    expect(r.code).toBe(0);
    const json = JSON.parse(run(['analyze', '-f', 'json', sample('postmortem.pcap')]).out);
    expect(r.out.split('\n')[2]).toContain('resumption offers accepted');
    for (const f of json.findings) {
      expect(r.out).toContain(f.connections.map((id: number) => `#${id}`).join(', '));
    }
    expect((r.out.match(/^#### /gm) ?? []).length).toBe(json.findings.length);
    expect(r.out).toContain('- nginx: the same `ssl_session_ticket_key` file(s) on every backend, rotated together');
  });

  it('renders as Markdown: tables with consistent columns, headings, no stray pipes', () => {
    // Rendered with marked (GitHub-flavoured): a broken row or an unescaped | would change the cell count.
    const tables = html.match(/<table>[\s\S]*?<\/table>/g) ?? [];
    expect(tables.length).toBe(2);
    for (const t of tables) {
      const rows = t.match(/<tr>[\s\S]*?<\/tr>/g)!;
      const widths = new Set(rows.map((row) => (row.match(/<t[hd][ >]/g) ?? []).length));
      expect(widths.size).toBe(1);
    }
    expect(html).toMatch(/<h2>TLS handshake report<\/h2>/);
    expect(html).toMatch(/<h3>Servers<\/h3>/);
    expect(r.out).toMatch(/26 more connections not listed/);
    expect(r.out).toContain('tlsflight analyze -f markdown --limit 10');
  });
});

describe('filters', () => {
  it('--sni glob, --server, --kind and --port narrow every part of the report', () => {
    const all = JSON.parse(run(['analyze', '-f', 'json', sample('postmortem.pcap')]).out);
    const shop = JSON.parse(run(['analyze', '-f', 'json', '--sni', 'shop.*', sample('postmortem.pcap')]).out);
    expect(shop.connections.length).toBe(all.connections.filter((c: { sni: string }) => c.sni === 'shop.tlsflight.test').length);
    expect(shop.summary.connections).toBe(shop.connections.length);
    expect(shop.servers.every((s: { sni: string }) => s.sni === 'shop.tlsflight.test')).toBe(true);
    const rejected = JSON.parse(run(['analyze', '-f', 'json', '--kind', 'rejected', sample('postmortem.pcap')]).out);
    expect(rejected.connections.length).toBe(all.summary.rejected);
    const b = JSON.parse(run(['analyze', '-f', 'json', '--server', '127.0.0.3:8443', '--port', '8443', sample('postmortem.pcap')]).out);
    expect(b.connections.length).toBeGreaterThan(0);
    expect(b.connections.every((c: { server: { ip: string; port: number } }) => c.server.ip === '127.0.0.3' && c.server.port === 8443)).toBe(true);
  });

  it('an unknown --kind is a usage error', () => {
    const r = run(['analyze', '--kind', 'halfway', sample('mix.pcap')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown --kind 'halfway'/);
  });
});

describe('--expect-resumption', () => {
  it('exits 1 naming the server and the shortfall', () => {
    const r = run(['analyze', '-q', '--expect-resumption', 'shop.tlsflight.test=0.9', sample('postmortem.pcap')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/127\.0\.0\.3:8443 \(shop\.tlsflight\.test\): \d+\.\d% of \d+ offers accepted, expected at least 90\.0% \(short by \d+\.\d%\)/);
  });

  it('passes when the rate holds, overall and per server', () => {
    const ok = run(['analyze', '-q', '--expect-resumption', '100%', '--expect-resumption', '127.0.0.1:44302=1', sample('tls12-ticket.pcap')]);
    expect(ok.code).toBe(0);
    expect(ok.err).toBe('');
    const overall = run(['analyze', '-q', '--expect-resumption', '0.5', sample('tls12-ticket-rejected.pcap')]);
    expect(overall.code).toBe(1);
    expect(overall.err).toMatch(/resumption: 0\.0% of 1 offers accepted, expected at least 50\.0%/);
  });

  it('rejects a malformed ratio', () => {
    const r = run(['analyze', '--expect-resumption', 'shop=1.5', sample('mix.pcap')]);
    expect(r.code).toBe(2);
  });
});

describe('diff', () => {
  it('compares resumption per server and lists findings that appeared and disappeared', () => {
    const r = run(['diff', '-f', 'json', sample('tls12-ticket.pcap'), sample('tls12-ticket-rejected.pcap')]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.out);
    const rate = d.metrics.find((m: { metric: string }) => m.metric === 'resumption rate (of offers)');
    expect(rate).toMatchObject({ before: 1, after: 0, delta: -1 });
    expect(d.findings.appeared.map((f: { type: string }) => f.type)).toEqual(['server-forgot-sessions']);
    expect(d.findings.disappeared).toEqual([]);
    expect(d.servers.length).toBe(2);
    const text = run(['diff', sample('tls12-ticket.pcap'), sample('tls12-ticket-rejected.pcap')]);
    expect(text.out).toMatch(/resumption rate \(of offers\)\s+100\.0% →\s+0\.0%\s+−100\.0%/);
    expect(text.out).toMatch(/Findings that appeared:/);
    const md = run(['diff', '-f', 'markdown', '-o', join(tmp, 'd.md'), sample('tls12-ticket.pcap'), sample('tls12-ticket-rejected.pcap')]);
    expect(md.code).toBe(0);
    expect(readFileSync(join(tmp, 'd.md'), 'utf8')).toMatch(/\| resumption rate \(of offers\) \| 100\.0% \| 0\.0% \| −100\.0% \|/);
  });

  it('takes the median handshake times over every connection, whatever the format and --limit', () => {
    const files = [sample('mix.pcap'), sample('postmortem.pcap')];
    // The medians straight from each capture's full JSON report.
    const want = files.map((f) => {
      const cs: { kind: string; handshakeMs: number | null }[] = JSON.parse(run(['analyze', '-f', 'json', f]).out).connections;
      const med = (v: number[]) => {
        v.sort((a, b) => a - b);
        const m = (v.length - 1) / 2;
        return v.length ? Math.round(((v[Math.floor(m)] + v[Math.ceil(m)]) / 2) * 1000) / 1000 : null;
      };
      const times = (k: (kind: string) => boolean) => cs.filter((c) => c.handshakeMs !== null && k(c.kind)).map((c) => c.handshakeMs!);
      const full = times((k) => k === 'full');
      expect(full.length).toBeGreaterThan(2);
      return { full: med(full), resumed: med(times((k) => k.startsWith('resumed'))) };
    });
    for (const args of [['-f', 'json'], ['-f', 'json', '--limit', '1']]) {
      const d = JSON.parse(run(['diff', ...args, ...files]).out);
      const metric = (name: string) => d.metrics.find((m: { metric: string }) => m.metric === name);
      expect(metric('median full handshake ms'), args.join(' ')).toMatchObject({ before: want[0].full, after: want[1].full });
      expect(metric('median resumed handshake ms'), args.join(' ')).toMatchObject({ before: want[0].resumed, after: want[1].resumed });
    }
    // The text diff lists nothing per connection: --limit must not change its medians either.
    const medians = (out: string) => out.split('\n').filter((l) => l.startsWith('median'));
    const all = medians(run(['diff', '--limit', '0', ...files]).out);
    expect(all).toHaveLength(2);
    expect(medians(run(['diff', '--limit', '1', ...files]).out)).toEqual(all);
  });
});
