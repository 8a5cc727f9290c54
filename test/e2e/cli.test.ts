import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, sample } from '../helpers/analyze.js';
import { clientHelloBody, F, hsMessage, pcapFile, pcapRecords, record, tcpPacket } from '../helpers/build.js';

const BIN = join(ROOT, 'bin', 'tlsflight.js');
const tmp = mkdtempSync(join(tmpdir(), 'tlsflight-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], input?: Buffer, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '', ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('tlsflight CLI', () => {
  it('prints a summary and a connection table', () => {
    const r = run(['analyze', sample('tls12-session-id.pcap')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/2 TLS connections/);
    expect(r.out).toMatch(/1 resumed by session ID/);
    expect(r.out).toContain('C:CH ▸ S:SH,CCS,Fin ▸ C:CCS,Fin');
    // Not a terminal: no colour codes.
    expect(r.out).not.toMatch(/\x1b\[/);
  });

  it('--format json prints the whole report with the documented connection fields', () => {
    const r = run(['analyze', '--format', 'json', sample('tls13-psk.pcap')]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.schemaVersion).toBe(1);
    const c = j.connections[1];
    expect(c.client).toEqual({ ip: '127.0.0.1', port: expect.any(Number) });
    expect(c.server).toEqual({ ip: '127.0.0.1', port: 44304 });
    expect(c).toMatchObject({
      transport: 'tcp',
      version: 'TLS1.3',
      sni: 'psk.tlsflight.test',
      kind: 'resumed-psk',
      offered: ['psk'],
      rejected: false,
      helloRetry: false,
      earlyData: null,
      complete: true,
      reason: null,
    });
    expect(c.evidence).toContain('ServerHello pre_shared_key selected_identity=0');
  });

  it('--format jsonl streams one connection per line, then a summary line', () => {
    const r = run(['analyze', '-f', 'jsonl', sample('mix.pcap')]);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    const last = lines.pop();
    expect(last.type).toBe('summary');
    expect(lines.length).toBe(last.summary.connections);
    expect(lines.every((l) => typeof l.id === 'number' && l.transport === 'tcp')).toBe(true);
  });

  it('-o writes the report to a file', () => {
    const out = join(tmp, 'r.json');
    const r = run(['analyze', '-f', 'json', '-o', out, sample('tls12-ticket.pcap')]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8')).summary.byKind['resumed-ticket']).toBe(1);
  });

  it('reads standard input with -', () => {
    const r = run(['analyze', '-f', 'json', '-'], readFileSync(sample('tls12-ticket.pcap')));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.captures[0].file).toBe('(stdin)');
    expect(j.summary.tlsConnections).toBe(2);
  });

  it('a missing file is one line on stderr and exit 2, no stack trace', () => {
    const r = run(['analyze', join(tmp, 'nope.pcap')]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/nope\.pcap: no such file/);
    expect(r.err).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('a text file is rejected with exit 2 naming the file', () => {
    const r = run(['analyze', sample('crafted/text.pcap')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/text\.pcap: not a pcap or pcapng capture/);
  });

  it('an empty file and a header-only file', () => {
    const e = run(['analyze', sample('crafted/empty.pcap')]);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/empty file/);
    const h = run(['analyze', sample('crafted/header-only.pcap')]);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/No TLS handshakes found/);
  });

  it('a corrupt record keeps the results before it and warns', () => {
    const r = run(['analyze', '-f', 'json', sample('crafted/corrupt-length.pcap')]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/corrupt packet record .*results up to packet \d+ kept/);
    expect(JSON.parse(r.out).summary.tlsConnections).toBe(1);
  });

  it('an unsupported link type is a clear error naming it', () => {
    const file = join(tmp, 'wifi.pcap');
    writeFileSync(file, pcapFile([{ sec: 1, frac: 0, data: new Uint8Array(40) }], { linkType: 105 }));
    const r = run(['analyze', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/wifi\.pcap: unsupported link type 105 \(IEEE802_11\)/);
  });

  it('bad usage exits 2 with a hint', () => {
    const a = run([]);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/command/);
    const b = run(['analyze', '--format', 'xml', sample('mix.pcap')]);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/format/);
    const c = run(['analyze']);
    expect(c.code).toBe(2);
  });

  it('--help shows examples', () => {
    const r = run(['analyze', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Examples:/);
    expect(r.out).toMatch(/--format/);
  });

  it('--jobs spreads files over worker threads with the same report, links across files included', () => {
    // Split a capture between its two connections: the ticket is issued in the first file and
    // used in the second.
    const whole = readFileSync(sample('tls12-ticket.pcap'));
    const recs = pcapRecords(whole);
    const second = recs.findIndex((r) => (r[16 + 47] & 0x12) === 0x02 && recs.indexOf(r) > 0);
    const a = join(tmp, 'part1.pcap');
    const b = join(tmp, 'part2.pcap');
    writeFileSync(a, Buffer.concat([whole.subarray(0, 24), ...recs.slice(0, second)]));
    writeFileSync(b, Buffer.concat([whole.subarray(0, 24), ...recs.slice(second)]));
    // The same traffic captured twice (say on the client and on the server): a sequential run links
    // the second copy's resumptions to the first copy's issuers, and so must the workers.
    const again = join(tmp, 'mix-again.pcap');
    const psk = join(tmp, 'psk-again.pcap');
    writeFileSync(again, readFileSync(sample('mix.pcap')));
    writeFileSync(psk, readFileSync(sample('tls13-psk.pcap')));
    const files = [a, b, sample('tls13-psk.pcap'), sample('mix.pcap'), again, psk];
    const one = JSON.parse(run(['analyze', '-f', 'json', '-j', '1', ...files]).out);
    // Small files normally stay in one thread; the variable makes these go to workers.
    const two = JSON.parse(run(['analyze', '-f', 'json', '-j', '2', ...files], undefined, { TLSFLIGHT_PARALLEL_MIN_BYTES: '0' }).out);
    expect(two.connections).toEqual(one.connections);
    expect(two.summary).toEqual(one.summary);
    expect(two.findings).toEqual(one.findings);
    expect(two.captures).toEqual(one.captures);
    expect(two.connections.some((c: { file: string; origin: { connection: number } | null }) => c.file === again && c.origin !== null && c.origin.connection < 40)).toBe(true);
    // Results come back a batch at a time and a worker ahead of the merge waits: with batches of
    // one connection and one batch in flight per worker, the report is still the same.
    const drip = JSON.parse(
      run(['analyze', '-f', 'json', '-j', '3', ...files], undefined, { TLSFLIGHT_PARALLEL_MIN_BYTES: '0', TLSFLIGHT_WORKER_BATCH: '1', TLSFLIGHT_WORKER_CREDITS: '1' }).out,
    );
    expect(drip.connections).toEqual(one.connections);
    expect(drip.findings).toEqual(one.findings);
    const resumed = two.connections.find((c: { file: string }) => c.file === b);
    expect(resumed.kind).toBe('resumed-ticket');
    expect(resumed.resumedFrom).toBe(1);
    expect(resumed.origin.connection).toBe(1);
  });

  it('--reader-thread gives the same report, for every sample and format variant', () => {
    const dir = join(ROOT, 'samples');
    const files = [
      ...readdirSync(dir).filter((n) => n.endsWith('.pcap')).map((n) => join(dir, n)),
      ...readdirSync(join(dir, 'variants')).map((n) => join(dir, 'variants', n)),
      ...readdirSync(join(dir, 'crafted')).filter((n) => /\.(pcap|pcapng|gz)$/.test(n)).map((n) => join(dir, 'crafted', n)),
    ];
    expect(files.length).toBeGreaterThan(40);
    // One run over all of them (files are separate captures in one report), with and without.
    const plain = run(['analyze', '-f', 'json', '-j', '1', ...files]);
    // The variable brings every file, however small, over the size from which a thread reads it.
    const threaded = run(['analyze', '-f', 'json', '-j', '1', '--reader-thread', ...files], undefined, { TLSFLIGHT_READER_THREAD_MIN_BYTES: '0' });
    expect(JSON.parse(plain.out).captures).toHaveLength(files.length);
    expect(threaded.code).toBe(plain.code);
    expect(threaded.out).toBe(plain.out);
    expect(threaded.err).toBe(plain.err);
  });

  it('stops quietly (exit 0, nothing on stderr) when the reader of its output goes away', async () => {
    // A report far longer than a pipe buffer: the JSON of the same capture given many times.
    const files = new Array(40).fill(sample('mix.pcap'));
    const child = spawn(process.execPath, [BIN, 'analyze', '-f', 'json', '-q', ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    // Read the first chunk, then close the pipe, as `| head -c 100` does.
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(err).toBe('');
    expect(code).toBe(0);
  });

  it('JSONL: every line is written when a file ends with the output full and the next one starts later', async () => {
    // 2,000 connections left open end together with the file: megabytes of lines at once, more
    // than the output takes in one go. The next input (stdin) comes only after that has drained.
    const recs = [];
    for (let i = 0; i < 2000; i++) {
      const sport = 20000 + i;
      const client = `10.1.${i >> 8}.${i & 255}`;
      const hello = record(22, hsMessage(1, clientHelloBody({ sessionId: new Array(32).fill(i & 255) })));
      for (const [k, seg] of [
        { src: client, dst: '10.0.0.2', sport, dport: 443, seq: 100, flags: F.SYN },
        { src: '10.0.0.2', dst: client, sport: 443, dport: sport, seq: 900, ack: 101, flags: F.SYN | F.ACK },
        { src: client, dst: '10.0.0.2', sport, dport: 443, seq: 101, ack: 901, flags: F.ACK | F.PSH, payload: hello },
      ].entries()) {
        recs.push({ sec: 1_700_000_000 + Math.floor(i / 1000), frac: (i % 1000) * 1000 + k, data: tcpPacket(seg) });
      }
    }
    const open = join(tmp, 'open.pcap');
    writeFileSync(open, pcapFile(recs));
    const outFile = join(tmp, 'open.jsonl');
    const child = spawn(process.execPath, [BIN, 'analyze', '-q', '-f', 'jsonl', '-o', outFile, open, '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    setTimeout(() => child.stdin.end(readFileSync(sample('mix.pcap'))), 1500);
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = readFileSync(outFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type?: string });
    // 2,000 + mix.pcap's 10 connections, then the summary line.
    expect(lines.filter((l) => l.type === undefined || l.type === 'connection')).toHaveLength(2010);
    expect(lines).toHaveLength(2011);
  });

  it.skipIf(!existsSync('/dev/full'))('a write error on standard output is reported and fails the run, for a short report too', () => {
    for (const format of ['text', 'json']) {
      const fd = openSync('/dev/full', 'w');
      try {
        const r = spawnSync(process.execPath, [BIN, 'analyze', '-f', format, sample('mix.pcap')], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
        expect(r.stderr).toMatch(/^tlsflight: standard output: ENOSPC/);
        expect(r.status).not.toBe(0);
      } finally {
        closeSync(fd);
      }
    }
  });

  it('several files in one call are reported together and per file', () => {
    const r = run(['analyze', '-f', 'json', sample('tls12-ticket.pcap'), sample('tls13-psk.pcap')]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.captures.map((c: { file: string }) => c.file)).toEqual([sample('tls12-ticket.pcap'), sample('tls13-psk.pcap')]);
    expect(j.summary.tlsConnections).toBe(4);
    expect(new Set(j.connections.map((c: { file: string }) => c.file)).size).toBe(2);
  });
});
