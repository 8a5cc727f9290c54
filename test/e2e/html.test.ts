import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { analyzeCaptures } from '../../src/analysis/run.js';
import { renderHtml } from '../../src/report/html.js';
import type { Report } from '../../src/report/model.js';
import { sample } from '../helpers/analyze.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) {
  console.warn(`html.test: ${CHROMIUM} not found — SKIPPING the browser checks of the HTML report (install Debian's chromium to run them)`);
}
const SCREENSHOT = join(tmpdir(), 'tlsflight-report.png');
const COMMAND = 'tlsflight analyze -f html samples/postmortem.pcap';
const GENERATED = '2026-11-27T12:00:00.000Z';

/** The page's text as a reader sees it: tags dropped, entities decoded, spaces collapsed. */
function textOf(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>|<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&shy;/g, '')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

/** The report with attacker-chosen strings where the capture controls them. */
function hostile(r: Report): Report {
  const h = structuredClone(r);
  h.connections[0].sni = '<script>alert("sni")</script>';
  h.connections[0].certificate = {
    count: 1,
    leaf: {
      subject: 'CN=<img src=x onerror=alert(2)>',
      issuer: "CN=' onmouseover='alert(3)",
      validFrom: '2026-01-01T00:00:00.000Z',
      validTo: '2027-01-01T00:00:00.000Z',
      san: ['DNS:"><svg onload=alert(4)>'],
      serialNumber: '01',
      fingerprint256: 'AA',
    },
  };
  h.connections[1].sni = 'evil\u202Etxt.exe';
  h.connections[1].evidence.push('</title></svg><script>alert(5)</script>');
  h.servers[0].sni = '</text><script>alert(6)</script>';
  h.captures[0].file = '"><iframe src="https://example.com/x"></iframe>.pcap';
  h.findings[0].title = '<b onclick=alert(7)>bold</b>';
  return h;
}

describe('HTML report of samples/postmortem.pcap', () => {
  let report: Report;
  let html: string;
  let dir: string;
  let file: string;

  beforeAll(async () => {
    report = await analyzeCaptures([sample('postmortem.pcap')]);
    html = renderHtml(report, { limit: 50, command: COMMAND, generatedAt: GENERATED });
    dir = mkdtempSync(join(tmpdir(), 'tlsflight-html-'));
    file = join(dir, 'postmortem.html');
    writeFileSync(file, html);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is one self-contained file: nothing to fetch, one inline script, a CSP that forbids fetching', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/\b(?:src|href|xlink:href|action|poster|srcset|data)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<(?:img|iframe|object|embed|video|audio|source|base)\b/i);
    expect(html).not.toMatch(/url\(\s*(?!#)/i); // only url(#pattern) references inside the page
    expect(html).not.toMatch(/@import/i);
    const scripts = html.match(/<script\b[^>]*>/gi) ?? [];
    expect(scripts).toEqual(['<script>']);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/);
    expect(statSync(file).size).toBeLessThan(1024 * 1024);
    console.log(`html.test: postmortem.pcap report is ${(statSync(file).size / 1024).toFixed(0)} KiB`);
  });

  it('carries the headline, provenance, key numbers and every finding', () => {
    const text = textOf(html);
    const s = report.summary;
    expect(text).toContain(report.headline);
    expect(text).toContain(COMMAND);
    expect(text).toContain(GENERATED);
    expect(text).toContain(`tlsflight ${report.tool.version}`);
    expect(text).toContain(`${s.tlsConnections} TLS connections`);
    expect(text).toContain(`${s.rejected} offers rejected`);
    expect(text).toContain(`${s.resumed} resumed`);
    expect(text).toContain(`${report.captures[0].file} pcap`);
    expect(text).toContain(`${report.captures[0].packets} `);
    expect(report.findings.length).toBeGreaterThan(0);
    for (const f of report.findings) {
      expect(text).toContain(f.title);
      expect(text).toContain(f.explanation);
      for (const hint of f.hints) expect(text).toContain(hint);
      // Evidence links point at anchors that exist.
      for (const id of f.connections) {
        expect(html).toContain(`href="#conn-${id}"`);
        expect(html).toContain(`id="conn-${id}"`);
      }
    }
    // One row, one <details> and one ladder per listed connection.
    expect(html.match(/<tr class="conn" id="conn-\d+"/g)).toHaveLength(report.connections.length);
    expect(html.match(/<details id="details-\d+">/g)).toHaveLength(report.connections.length);
    expect(html.match(/<svg class="ladder"/g)).toHaveLength(report.connections.length);
    // Three charts.
    for (const id of ['chart-servers', 'chart-timing', 'chart-timeline']) expect(html).toMatch(new RegExp(`<figure id="${id}">[\\s\\S]*?<svg class="chart"`));
  });

  it('lists the first --limit connections and says how many are hidden; 0 lists all', () => {
    const limited = renderHtml(report, { limit: 10, command: COMMAND, generatedAt: GENERATED });
    const n = report.connections.length;
    expect(limited.match(/<tr class="conn" id="conn-\d+"/g)).toHaveLength(10);
    expect(limited.match(/<svg class="ladder"/g)).toHaveLength(10);
    expect(textOf(limited)).toContain(`${n - 10} of ${n} connections are hidden`);
    // Evidence beyond the limit is named but not linked to a missing anchor.
    for (const id of report.findings.flatMap((f) => f.connections).filter((id) => id > 10)) {
      expect(limited).not.toContain(`href="#conn-${id}"`);
    }
    const all = renderHtml(report, { limit: 0, command: COMMAND, generatedAt: GENERATED });
    expect(all.match(/<tr class="conn" id="conn-\d+"/g)).toHaveLength(n);
    expect(all).not.toContain('are hidden');
    expect(limited.length).toBeLessThan(all.length);
  });

  it('escapes every string the capture controls', () => {
    const out = renderHtml(hostile(report), { limit: 50, command: 'tlsflight analyze "<script>x</script>.pcap"', generatedAt: GENERATED });
    expect(out.match(/<script\b[^>]*>/gi)).toEqual(['<script>']);
    const raw = ['<script>alert', '</text><script>', '<img', '<iframe', '<b onclick', '<svg onload', "' onmouseover='", '"><iframe'];
    expect(raw.filter((x) => out.includes(x))).toEqual([]);
    expect(out).toContain('&lt;script&gt;alert(&quot;sni&quot;)&lt;/script&gt;');
    expect(out).toContain('CN=&lt;img src=x onerror=alert(2)&gt;');
    expect(out).toContain('CN=&#39; onmouseover=&#39;alert(3)');
    expect(out).toContain('&lt;b onclick=alert(7)&gt;bold&lt;/b&gt;');
    expect(out).toContain('&lt;script&gt;x&lt;/script&gt;');
    // A right-to-left override cannot disguise a name: it is shown as an escape.
    expect(out).not.toContain('\u202E');
    expect(out).toContain('evil\\u202etxt.exe');
    expect(out.match(/(?:src|href)\s*=\s*"?https?:/gi)).toBeNull();
  });

  it.skipIf(!HAS_CHROMIUM)(
    'renders in Chromium: no errors or requests, text, charts, ladders, screenshot',
    async () => {
      const t0 = performance.now();
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const problems: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
        page.on('request', (r) => requests.push(r.url()));
        const url = pathToFileURL(file).href;
        await page.goto(url, { waitUntil: 'load' });

        // What a reader sees.
        const text = await page.locator('body').innerText();
        expect(text).toContain(report.headline);
        expect(await page.locator('#headline').innerText()).toContain(report.headline);
        const rejectedCard = page.locator('.card', { hasText: 'offers rejected' });
        expect((await rejectedCard.innerText()).replace(/\s+/g, ' ')).toBe(`${report.summary.rejected} offers rejected`);
        for (const f of report.findings) expect(text).toContain(f.title);

        // The charts rendered, with a mark per server / handshake / connection.
        for (const id of ['chart-servers', 'chart-timing', 'chart-timeline']) {
          const box = await page.locator(`#${id} svg`).boundingBox();
          expect(box, id).not.toBeNull();
          expect(box!.width, id).toBeGreaterThan(300);
          expect(box!.height, id).toBeGreaterThan(50);
        }
        const servers = report.servers.length;
        expect(await page.locator('#chart-servers svg > g').count()).toBe(servers);
        const timed = report.connections.filter((c) => c.tls && c.handshakeMs !== null && c.resumed !== null).length;
        expect(await page.locator('#chart-timing svg circle').count()).toBe(timed);
        expect(await page.locator('#chart-timeline svg rect > title').count()).toBe(report.connections.length);
        const firstBar = await page.locator('#chart-servers svg > g rect').first().boundingBox();
        expect(firstBar!.width).toBeGreaterThan(0);
        expect(await page.locator('#chart-servers svg title').count()).toBeGreaterThan(servers);

        // A ladder opens from its <details>, with an arrow per flight.
        const conn = report.connections.find((c) => c.resumed === true && c.flights.length >= 3)!;
        const details = page.locator(`#details-${conn.id}`);
        expect(await details.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
        await details.locator('summary').click();
        expect(await details.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
        const ladder = details.locator('svg.ladder');
        const lbox = await ladder.boundingBox();
        expect(lbox!.width).toBeGreaterThan(300);
        expect(lbox!.height).toBeGreaterThan(100);
        expect(await ladder.locator('line[marker-end]').count()).toBe(conn.flights.length);
        const ladderText = await ladder.textContent();
        for (const f of conn.flights) {
          expect(ladderText).toContain(`${f.atMs.toFixed(3)} ms`);
          expect(ladderText).toContain(f.messages[0]);
        }
        // A finding's evidence link jumps to the connection and opens its details.
        const evidence = report.findings[0].connections[0];
        await page.locator(`.finding a[href="#conn-${evidence}"]`).first().click();
        await page.waitForFunction((id) => (document.getElementById(`details-${id}`) as HTMLDetailsElement).open, evidence);

        await page.screenshot({ path: SCREENSHOT, fullPage: true });
        console.log(`html.test: screenshot of the postmortem report: ${SCREENSHOT}`);

        // Hostile strings stay text in a real browser: no dialog, no injected element.
        const evil = join(dir, 'hostile.html');
        writeFileSync(evil, renderHtml(hostile(report), { limit: 50, command: COMMAND, generatedAt: GENERATED }));
        const page2 = await browser.newPage();
        page2.on('dialog', (d) => {
          problems.push(`dialog: ${d.message()}`);
          void d.dismiss();
        });
        page2.on('pageerror', (e) => problems.push(`hostile page error: ${e.message}`));
        page2.on('request', (r) => requests.push(r.url()));
        await page2.goto(pathToFileURL(evil).href, { waitUntil: 'load' });
        expect(await page2.locator('script').count()).toBe(1);
        expect(await page2.locator('img, iframe, b[onclick], svg[onload]').count()).toBe(0);
        expect(await page2.locator('body').innerText()).toContain('<script>alert("sni")</script>');

        expect(problems).toEqual([]);
        expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
        console.log(`html.test: browser checks took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      } finally {
        await browser.close();
      }
    },
    60_000, // a few seconds normally; generous for a loaded CI machine
  );
});
