import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, sample } from '../helpers/analyze.js';
import { clientHelloBody, ext, F, hsMessage, pcapFile, pcapRecords, record, serverHelloBody, tcpPacket, vec8, type Rec } from '../helpers/build.js';

const BIN = join(ROOT, 'bin', 'tlsflight.js');
const tmp = mkdtempSync(join(tmpdir(), 'tlsflight-parallel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Conn {
  id: number;
  kind: string;
  offered: string[] | null;
  rejected: boolean | null;
  resumedFrom: number | null;
  origin: { via: string; connection: number; ageS: number } | null;
  evidence: string[];
}
interface Report {
  connections: Conn[];
  summary: unknown;
  findings: unknown[];
  servers: unknown[];
}

/** The JSON report of `files` analyzed in one thread and in `jobs` workers (however small the files). */
function both(files: string[], jobs = 2, env: Record<string, string> = {}): [Report, Report] {
  return [run(files, 1, env).report, run(files, jobs, env).report];
}

/** The JSON report of `files` with `-j jobs`, and what went to stderr (TLSFLIGHT_TRACE_PARALLEL says where files went). */
function run(files: string[], jobs: number, env: Record<string, string>): { report: Report; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'analyze', '-q', '-f', 'json', '-j', String(jobs), ...files], {
    encoding: 'utf8',
    env: { ...process.env, TLSFLIGHT_PARALLEL_MIN_BYTES: '0', TLSFLIGHT_TRACE_PARALLEL: '1', ...env },
    maxBuffer: 64 * 2 ** 20,
  });
  expect(r.status, r.stderr).toBe(0);
  return { report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

/** The post-mortem capture cut in two at each of `cuts` (record numbers): one pair of files per cut. */
function cutFiles(prefix: string, cuts: number[]): string[] {
  const whole = readFileSync(sample('postmortem.pcap'));
  const recs = pcapRecords(whole);
  const files: string[] = [];
  for (const cut of cuts) {
    for (const [k, part] of [recs.slice(0, cut), recs.slice(cut)].entries()) {
      const path = join(tmp, `${prefix}${cut}.${k}.pcap`);
      writeFileSync(path, Buffer.concat([whole.subarray(0, 24), ...part]));
      files.push(path);
    }
  }
  return files;
}

function expectSame(one: Report, many: Report): void {
  expect(many.connections).toEqual(one.connections);
  expect(many.summary).toEqual(one.summary);
  expect(many.findings).toEqual(one.findings);
  expect(many.servers).toEqual(one.servers);
}

/** A capture being written: TCP connections with TLS 1.2 handshakes, 1 ms between packets. */
class Capture {
  readonly recs: Rec[] = [];
  private us = 0;
  constructor(private readonly sec: number) {}

  packet(src: string, dst: string, sport: number, dport: number, seq: number, ack: number, flags: number, payload?: Uint8Array): void {
    this.us += 1000;
    this.recs.push({ sec: this.sec + Math.floor(this.us / 1e6), frac: this.us % 1e6, data: tcpPacket({ src, dst, sport, dport, seq, ack, flags, payload }) });
  }

  idle(ms: number): void {
    this.us += ms * 1000;
  }

  save(name: string): string {
    const path = join(tmp, name);
    writeFileSync(path, pcapFile(this.recs));
    return path;
  }
}

const CLIENT = '10.0.0.1';
const SERVER = '10.0.0.2';

class Tls12 {
  private cs = 1000;
  private ss = 9000;
  constructor(
    private readonly cap: Capture,
    private readonly port: number,
  ) {}

  open(): this {
    this.cap.packet(CLIENT, SERVER, this.port, 443, this.cs++, 0, F.SYN);
    this.cap.packet(SERVER, CLIENT, 443, this.port, this.ss++, this.cs, F.SYN | F.ACK);
    this.cap.packet(CLIENT, SERVER, this.port, 443, this.cs, this.ss, F.ACK);
    return this;
  }

  c(b: Uint8Array): void {
    this.cap.packet(CLIENT, SERVER, this.port, 443, this.cs, this.ss, F.PSH | F.ACK, b);
    this.cs += b.length;
  }

  private s(b: Uint8Array): void {
    this.cap.packet(SERVER, CLIENT, 443, this.port, this.ss, this.cs, F.PSH | F.ACK, b);
    this.ss += b.length;
  }

  hello(offer: number[], tls13Capable: boolean): void {
    // A TLS 1.3-capable client lists 1.3 and 1.2 in supported_versions.
    const exts = tls13Capable ? [ext(43, vec8([0x03, 0x04, 0x03, 0x03]))] : undefined;
    this.c(record(22, hsMessage(1, clientHelloBody({ sessionId: offer, suites: [0xc02f], exts }))));
  }

  /** A full handshake in which the server issues session ID `issued`. */
  full(offer: number[], issued: number[], tls13Capable = false): this {
    this.hello(offer, tls13Capable);
    this.s(Buffer.concat([record(22, Buffer.concat([hsMessage(2, serverHelloBody({ sessionId: issued })), hsMessage(11, new Uint8Array(3)), hsMessage(14, new Uint8Array(0))]))]));
    this.c(Buffer.concat([record(22, hsMessage(16, new Uint8Array(33).fill(1))), record(20, Uint8Array.of(1)), record(22, new Uint8Array(40).fill(3))]));
    this.s(Buffer.concat([record(20, Uint8Array.of(1)), record(22, new Uint8Array(40).fill(4))]));
    return this;
  }

  /** An abbreviated handshake resuming session ID `id` (the ServerHello echoes it). */
  resumed(id: number[]): this {
    this.hello(id, false);
    this.s(Buffer.concat([record(22, hsMessage(2, serverHelloBody({ sessionId: id }))), record(20, Uint8Array.of(1)), record(22, new Uint8Array(40).fill(4))]));
    this.c(Buffer.concat([record(20, Uint8Array.of(1)), record(22, new Uint8Array(40).fill(3))]));
    return this;
  }

  /** The server answers with a HelloRetryRequest (the special random) and nothing else. */
  retryOnly(id: number[]): this {
    const random = [...Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex')];
    this.s(record(22, hsMessage(2, serverHelloBody({ sessionId: id, random }))));
    return this;
  }

  /** Time passes before the next packet. */
  wait(ms: number): this {
    this.cap.idle(ms);
    return this;
  }

  close(): this {
    this.cap.packet(CLIENT, SERVER, this.port, 443, this.cs++, this.ss, F.FIN | F.ACK);
    this.cap.packet(SERVER, CLIENT, 443, this.port, this.ss++, this.cs, F.FIN | F.ACK);
    this.cap.packet(CLIENT, SERVER, this.port, 443, this.cs, this.ss, F.ACK);
    return this;
  }
}

const X = new Array(32).fill(0xab);
const Y = new Array(32).fill(0xcd);

describe('analyze -j: links across files as a sequential run makes them', () => {
  it('the first connection to issue a session ID is its origin, not the lowest id (a socket opened early)', () => {
    const a = new Capture(1_700_000_000);
    const early = new Tls12(a, 40001).open(); // #1: connected first, hello later
    new Tls12(a, 40002).open().full([], X).close(); // #2 issues X
    early.resumed(X).close(); // #1 resumes X: its ServerHello repeats X
    const b = new Capture(1_700_000_030);
    new Tls12(b, 40003).open().resumed(X).close(); // #3, in the next file
    const [one, two] = both([a.save('pre.0.pcap'), b.save('pre.1.pcap')]);
    expectSame(one, two);
    const c3 = one.connections.find((c) => c.id === 3)!;
    expect(c3.kind).toBe('resumed-session-id');
    expect(c3.resumedFrom).toBe(2);
    expect(c3.origin?.connection).toBe(2);
  });

  it("a TLS 1.3-capable client's 32-byte session ID issued in an earlier file is an offer, rejected by a full handshake", () => {
    const a = new Capture(1_700_000_000);
    new Tls12(a, 40001).open().full([], X).close();
    const b = new Capture(1_700_000_060);
    new Tls12(b, 40002).open().full(X, Y, true).close();
    const [one, two] = both([a.save('compat.0.pcap'), b.save('compat.1.pcap')]);
    expectSame(one, two);
    const c2 = one.connections.find((c) => c.id === 2)!;
    expect(c2.offered).toEqual(['session-id']);
    expect(c2.rejected).toBe(true);
    expect(c2.origin?.connection).toBe(1);
    expect(c2.evidence).toContain('client offered session-id; server did a full handshake');
    // Alone, the second file cannot tell the ID from a compatibility-mode random one.
    const alone = spawnSync(process.execPath, [BIN, 'analyze', '-q', '-f', 'json', join(tmp, 'compat.1.pcap')], { encoding: 'utf8' });
    const c = (JSON.parse(alone.stdout) as Report).connections[0];
    expect(c.offered).toEqual([]);
    expect(c.rejected).toBeNull();
  });

  it('the post-mortem capture cut into two files at many places, all in one run', () => {
    // Cuts through connections that resume across the cut with a ticket, a session ID or both.
    const files = cutFiles('pm', [15, 43, 50, 71, 78]);
    const [one, many] = both(files, 3, { TLSFLIGHT_WORKER_BATCH: '1', TLSFLIGHT_WORKER_CREDITS: '1' });
    expectSame(one, many);
    // Each pair on its own: the second half's resumptions link to the first half's issuers.
    for (let i = 0; i < files.length; i += 2) {
      const [a, b] = both(files.slice(i, i + 2));
      expectSame(a, b);
    }
  });

  it('an origin age counts from the ClientHello itself, not from the start of its flight', () => {
    const a = new Capture(1_700_000_000);
    new Tls12(a, 40001).open().full([], X).close();
    const b = new Capture(1_700_000_100);
    const c = new Tls12(b, 40002).open();
    c.c(record(22, hsMessage(1, Uint8Array.of(3, 3, 0)))); // a ClientHello too short to read: "CH?"
    c.wait(2000).resumed(X).close();
    const [one, two] = both([a.save('age.0.pcap'), b.save('age.1.pcap')]);
    expectSame(one, two);
    const c2 = one.connections.find((x) => x.id === 2)!;
    expect(c2.origin?.connection).toBe(1);
    expect(c2.origin?.ageS).toBeGreaterThan(101);
  });

  it('a 32-byte session ID from an earlier file, answered only by a HelloRetryRequest: offered, not rejected', () => {
    const a = new Capture(1_700_000_000);
    new Tls12(a, 40001).open().full([], X).close();
    const b = new Capture(1_700_000_100);
    const c = new Tls12(b, 40002).open();
    c.hello(X, true);
    c.retryOnly(X).close();
    const [one, two] = both([a.save('hrr.0.pcap'), b.save('hrr.1.pcap')]);
    expectSame(one, two);
    const c2 = one.connections.find((x) => x.id === 2)!;
    expect(c2.offered).toEqual(['session-id']);
    expect(c2.rejected).toBeNull();
  });
});

describe('analyze -j on dense input: the run goes on in the main thread', () => {
  // Any connection at all counts as dense.
  const DENSE = { TLSFLIGHT_DENSE_PER_MIB: '0', TLSFLIGHT_DENSITY_SAMPLE_MIB: '0' };

  it('dense from the first file: the workers stop and every later file is analyzed in the main thread', () => {
    const files = cutFiles('dense', [15, 43, 71]);
    const [one] = both(files);
    const many = run(files, 3, DENSE);
    expect(many.stderr).toMatch(/: files from #2 on in the main thread/);
    expectSame(one, many.report);
    expect(one.connections.some((c) => c.origin !== null)).toBe(true);
  });

  it('dense only after the first file: files ahead that are read far enough finish in their workers, the rest in the main thread', () => {
    const empty = join(tmp, 'empty.pcap');
    writeFileSync(empty, pcapFile([]));
    const files = [empty, ...cutFiles('later', [15, 43, 71])];
    const [one] = both(files);
    for (const env of [DENSE, { ...DENSE, TLSFLIGHT_WORKER_BATCH: '1', TLSFLIGHT_WORKER_CREDITS: '1' }]) {
      const many = run(files, 3, env);
      const from = /: files from #(\d+) on in the main thread/.exec(many.stderr);
      expect(from, many.stderr).not.toBeNull();
      // The first file (analyzed in the main thread) has no connection: the switch comes from a worker's file.
      expect(Number(from![1])).toBeGreaterThanOrEqual(3);
      expectSame(one, many.report);
    }
  });

  it('sparse input stays in the workers', () => {
    const files = cutFiles('sparse', [15, 43, 71]);
    const many = run(files, 3, {});
    expect(many.stderr).not.toMatch(/main thread/);
    expectSame(both(files)[0], many.report);
  });
});

describe('analyze -j: a worker that dies', () => {
  it('fails the run with a message, instead of ending it quietly with results missing', () => {
    const files = ['mix.pcap', 'postmortem.pcap', 'tls12-session-id.pcap', 'mix.pcap'].map(sample);
    const r = spawnSync(process.execPath, [BIN, 'analyze', '-q', '-f', 'json', '-j', '2', ...files], {
      encoding: 'utf8',
      env: { ...process.env, TLSFLIGHT_PARALLEL_MIN_BYTES: '0', TLSFLIGHT_TEST_WORKER_EXIT: '2' },
      timeout: 30_000,
    });
    expect(r.signal).toBeNull();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`worker for ${files[2]} exited (code 3)`);
    expect(r.stdout).toBe('');
  });
});
