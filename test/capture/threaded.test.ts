import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/open.js';
import type { CaptureInfo, Frame, ReadResult } from '../../src/capture/types.js';
import type * as Threaded from '../../src/capture/threaded.js';
import { ROOT, SAMPLES } from '../helpers/analyze.js';
import { pcapFile, type Rec } from '../helpers/build.js';

// A worker thread runs compiled JavaScript, so the threaded reader is tested from dist/ (`npm test`
// builds it first); run alone, this file builds it when a capture source is newer than its output.
let readCaptureInThread: typeof Threaded.readCaptureInThread;
let MIN_RING: number;

function buildIfStale(): void {
  const srcDir = join(ROOT, 'src', 'capture');
  const stale = readdirSync(srcDir)
    .filter((n) => n.endsWith('.ts'))
    .some((n) => {
      const out = join(ROOT, 'dist', 'capture', n.replace(/\.ts$/, '.js'));
      return !existsSync(out) || statSync(out).mtimeMs < statSync(join(srcDir, n)).mtimeMs;
    });
  if (!stale) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
}

const tmp = mkdtempSync(join(tmpdir(), 'tlsflight-threaded-'));

beforeAll(async () => {
  buildIfStale();
  const distThreaded = join(ROOT, 'dist', 'capture', 'threaded.js');
  const distRing = join(ROOT, 'dist', 'capture', 'ring.js');
  ({ readCaptureInThread } = (await import(distThreaded)) as typeof Threaded);
  ({ MIN_RING_BYTES: MIN_RING } = (await import(distRing)) as typeof import('../../src/capture/ring.js'));
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Reader = (path: string, sink: (f: Frame) => void, opts: Threaded.ThreadedReadOptions) => Promise<ReadResult>;

interface Trace {
  result: ReadResult;
  /** Hash of every frame field and the data bytes, in order. */
  hash: string;
  frames: number;
  /** The whole live CaptureInfo as the sink saw it at each frame (when asked for). */
  infoAtFrame: string[];
  progress: number[];
  starts: number;
  live: CaptureInfo | null;
  /** Frames whose data was a view into shared memory, i.e. that came through the ring. */
  shared: number;
}

interface TraceOpts {
  ring?: number;
  infoAtFrame?: boolean;
  /** Busy-wait this long in the sink for every frame. */
  burnUs?: number;
}

async function trace(read: Reader, path: string, o: TraceOpts = {}): Promise<Trace> {
  const h = createHash('sha256');
  const fields = new Float64Array(7);
  let frames = 0;
  let live: CaptureInfo | null = null;
  let starts = 0;
  let shared = 0;
  const infoAtFrame: string[] = [];
  const progress: number[] = [];
  const result = await read(
    path,
    (f) => {
      frames++;
      fields.set([f.index, f.tsSec, f.tsNsec, f.linkType, f.origLen, f.iface, f.data.length]);
      h.update(new Uint8Array(fields.buffer));
      h.update(f.data);
      if (f.data.buffer instanceof SharedArrayBuffer) shared++;
      if (o.infoAtFrame) infoAtFrame.push(JSON.stringify(live));
      if (o.burnUs) {
        const until = performance.now() + o.burnUs / 1000;
        while (performance.now() < until);
      }
    },
    {
      ringBytes: o.ring,
      onStart: (info) => {
        starts++;
        live = info;
      },
      onProgress: (n) => progress.push(n),
    },
  );
  return { result, hash: h.digest('hex'), frames, infoAtFrame, progress, starts, live, shared };
}

const inThread: Reader = (p, s, o) => readCapture(p, s, o);
const threaded: Reader = (p, s, o) => readCaptureInThread(p, s, o);

/** The threaded reader gives exactly what readCapture gives, with every ring size in `rings`. */
async function expectSame(path: string, rings: (number | undefined)[], infoAtFrame = true): Promise<Trace> {
  const want = await trace(inThread, path, { infoAtFrame });
  const got = await Promise.all(rings.map((ring) => trace(threaded, path, { ring, infoAtFrame })));
  for (const [i, g] of got.entries()) {
    const label = `${path} with ring ${rings[i] ?? 'default'}`;
    expect(g.frames, label).toBe(want.frames);
    // Not the in-thread fallback: the frames did come through the ring.
    if (want.frames > 0) expect(g.shared, label).toBeGreaterThan(0);
    expect(g.hash, label).toBe(want.hash);
    expect(g.result, label).toStrictEqual(want.result);
    expect(g.infoAtFrame, label).toStrictEqual(want.infoAtFrame);
    expect(g.starts, label).toBe(want.starts);
    // As with readCapture, the info handed to onStart is the one returned.
    if (want.live) expect(g.result.info, label).toBe(g.live);
    expect(g.progress.at(-1), label).toBe(want.progress.at(-1));
    expect([...g.progress].sort((a, b) => a - b), label).toStrictEqual(g.progress);
  }
  return want;
}

function write(name: string, data: Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, data);
  return p;
}

/** A pcap of `n` distinct small frames (the last byte pattern depends on the index). */
function manyFrames(n: number, size: number): Buffer {
  const recs: Rec[] = [];
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(size + (i % 7));
    data[0] = i & 0xff;
    data[data.length - 1] = (i >> 8) & 0xff;
    recs.push({ sec: 1_700_000_000 + Math.floor(i / 1000), frac: (i % 1000) * 997, data });
  }
  return pcapFile(recs);
}

// ---------------------------------------------------------------------------------------------
// A small pcapng writer (little-endian), for what the samples lack: interfaces added and drop
// counts changed in the middle of the file, secrets blocks, frames bigger than the ring.

const pad4 = (n: number): number => (n + 3) & ~3;

function block(type: number, body: Uint8Array): Uint8Array {
  const len = 12 + pad4(body.length);
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  b.set(body, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}

function option(code: number, value: Uint8Array): Buffer {
  const b = Buffer.alloc(4 + pad4(value.length));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  b.set(value, 4);
  return b;
}

const END_OPT = Buffer.alloc(4);

function shb(): Uint8Array {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(0x1a2b3c4d, 0);
  b.writeUInt16LE(1, 4);
  b.writeBigInt64LE(-1n, 8);
  return block(0x0a0d0d0a, b);
}

function idb(linkType: number, name: string, tsresol?: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(linkType, 0);
  b.writeUInt32LE(0, 4);
  const opts = [option(2, Buffer.from(name))];
  if (tsresol !== undefined) opts.push(option(9, Uint8Array.of(tsresol)));
  return block(1, Buffer.concat([b, ...opts, END_OPT]));
}

function epb(iface: number, ts: bigint, data: Uint8Array, origLen = data.length): Uint8Array {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(iface, 0);
  b.writeUInt32LE(Number(ts >> 32n), 4);
  b.writeUInt32LE(Number(ts & 0xffffffffn), 8);
  b.writeUInt32LE(data.length, 12);
  b.writeUInt32LE(origLen, 16);
  return block(6, Buffer.concat([b, data]));
}

function isb(iface: number, ifdrop: bigint): Uint8Array {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(iface, 0);
  const v = Buffer.alloc(8);
  v.writeBigUInt64LE(ifdrop);
  return block(5, Buffer.concat([b, option(5, v), END_OPT]));
}

function dsb(text: string): Uint8Array {
  const s = Buffer.from(text);
  const b = Buffer.alloc(8);
  b.writeUInt32LE(0x544c534b, 0);
  b.writeUInt32LE(s.length, 4);
  return block(10, Buffer.concat([b, s]));
}

const filled = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed + i * 31) & 0xff);

// ---------------------------------------------------------------------------------------------

describe('readCaptureInThread: the same frames and result as readCapture', () => {
  const files = ['', 'crafted', 'variants'].flatMap((d) =>
    readdirSync(join(SAMPLES, d))
      .filter((n) => /\.(pcap|pcapng)(\.gz)?$/.test(n))
      .map((n) => join(d, n)),
  );

  it('covers pcap, nanosecond pcap, pcapng and gzip samples', () => {
    expect(files.length).toBeGreaterThan(60);
    for (const ext of ['.ns.pcap', '.pcapng', '.pcap.gz', '.pcapng.gz']) expect(files.some((f) => f.endsWith(ext)), ext).toBe(true);
  });

  for (const f of files) {
    it(`${f}: default ring and the smallest ring`, async () => {
      const want = await expectSame(join(SAMPLES, f), [undefined, MIN_RING]);
      if (!/empty|header-only|text/.test(f)) expect(want.frames).toBeGreaterThan(0);
    });
  }

  it('pcapng: interfaces, drop counts, warnings and secrets that change mid-file reach the sink in step', async () => {
    const file = Buffer.concat([
      shb(),
      idb(1, 'eth0'),
      epb(0, 1_700_000_000_000_001n, filled(60, 1)),
      epb(0, 1_700_000_000_000_002n, filled(1500, 2), 1600),
      idb(113, 'any', 9),
      epb(1, 1_700_000_000_123_456_789n, filled(80, 3)),
      isb(0, 7n),
      epb(0, 1_700_000_001_000_000n, filled(70, 4)),
      epb(5, 1n, filled(10, 5)), // undefined interface: a warning, no frame
      dsb('CLIENT_RANDOM 00 11\n'),
      epb(1, 1_700_000_002_000_000_000n, filled(90, 6)),
      shb(), // a new section: interfaces accumulate, ids restart
      idb(101, 'raw0'),
      epb(0, 1_700_000_003_000_000n, filled(3000, 7)),
      isb(0, 9n),
    ]);
    const path = write('midfile.pcapng', file);
    const want = await expectSame(path, [undefined, MIN_RING, 64 * 1024]);
    expect(want.frames).toBe(6);
    // The reference really changes under the sink's feet, so the comparison above means something.
    expect(new Set(want.infoAtFrame).size).toBe(6);
    expect(want.result.info.interfaces.map((i) => i.dropped)).toStrictEqual([7, undefined, 9]);
  });

  it('frames larger than the ring (pcap records up to 1 MiB, a 10 MiB pcapng packet) arrive whole', async () => {
    // Around and between half and all of each ring size used below, at varying ring offsets.
    const sizes = [1 << 20, 300_000, 0, 10, 65_536, (1 << 20) - 1, 4096, 2048, 2000, 2500, 77, 3000, 4000, 40_000, 60_000, 3999, 600_000, 1_000_000, 2100];
    const recs = sizes.map((n, i) => ({ sec: 1_700_000_000 + i, frac: i, data: filled(n, i) }));
    const pcap = write('big.pcap', pcapFile(recs, { snaplen: 1 << 20 }));
    expect((await expectSame(pcap, [undefined, MIN_RING, 64 * 1024, 1 << 20], false)).frames).toBe(sizes.length);
    const ng = write('big.pcapng', Buffer.concat([shb(), idb(1, 'eth0'), epb(0, 1n, filled(10 << 20, 9)), epb(0, 2n, filled(100, 1))]));
    expect((await expectSame(ng, [undefined, MIN_RING], false)).frames).toBe(2);
  });

  it('gzip of a multi-MiB capture, through the smallest ring', async () => {
    const path = write('many.pcap.gz', gzipSync(manyFrames(40_000, 90)));
    expect((await expectSame(path, [undefined, MIN_RING], false)).frames).toBe(40_000);
  });
});

describe('readCaptureInThread: bad input gives readCapture’s result', () => {
  const good = manyFrames(3000, 200);
  const gz = gzipSync(good);
  const corruptGz = Buffer.from(gz);
  corruptGz.fill(0x55, gz.length >> 1, (gz.length >> 1) + 64);
  const badRecord = Buffer.from(good);
  let at = 24;
  for (let i = 0; i < 1000; i++) at += 16 + 200 + (i % 7);
  badRecord.writeUInt32LE(0x7fff0000, at + 8); // captured length of record 1001

  const ngBadLength = Buffer.concat([shb(), idb(1, 'eth0'), epb(0, 1n, filled(100, 1)), epb(0, 2n, filled(100, 2))]);
  ngBadLength.writeUInt32LE(13, ngBadLength.length - 132 + 4); // length of the last (132-byte) block
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['three bytes', Uint8Array.of(0xd4, 0xc3, 0xb2)],
    ['garbage', filled(100_000, 77)],
    ['pcap cut mid-record', good.subarray(0, good.length - 150)],
    ['pcap with a corrupt record length', badRecord],
    ['gzip cut short', gz.subarray(0, gz.length >> 1)],
    ['gzip with corrupt data', corruptGz],
    ['gzip of garbage', gzipSync(filled(5000, 3))],
    ['gzip, empty inside', gzipSync(new Uint8Array(0))],
    ['pcapng cut mid-block', ngBadLength.subarray(0, ngBadLength.length - 50)],
    ['pcapng with a bad block length', ngBadLength],
  ];
  for (const [name, bytes] of cases) {
    it(name, async () => {
      await expectSame(write(`bad-${name.replace(/\W+/g, '-')}`, bytes), [undefined, MIN_RING], false);
    });
  }

  it('a missing file and a directory', async () => {
    for (const p of [join(tmp, 'no-such-file.pcap'), tmp]) {
      const want = await readCapture(p, () => undefined);
      const got = await readCaptureInThread(p, () => undefined);
      expect(got).toStrictEqual(want);
      expect(want.problem?.fatal).toBe(true);
    }
  });
});

describe('readCaptureInThread: flow control and failures', () => {
  let big: string;
  beforeAll(() => {
    big = write('big-many.pcap', manyFrames(150_000, 100));
  });

  it('a slow sink still gets every frame, in order (ring full, reader thread waiting)', async () => {
    const path = write('slow.pcap', manyFrames(20_000, 150));
    const want = await trace(inThread, path);
    const got = await trace(threaded, path, { ring: MIN_RING, burnUs: 20 });
    expect(got.hash).toBe(want.hash);
    expect(got.result).toStrictEqual(want.result);
  });

  it('the event loop keeps turning while a large capture is consumed', async () => {
    expect(statSync(big).size).toBeGreaterThan(16 << 20);
    let ticks = 0;
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 5);
    const start = performance.now();
    // 2 µs per frame of "analysis": the reader thread stays ahead, the ring stays full and this
    // thread never has to wait for data, so only the consumer's own yielding lets the timer run.
    const got = await trace(threaded, big, { burnUs: 2 });
    const took = performance.now() - start;
    clearInterval(timer);
    expect(got.frames).toBe(150_000);
    expect(took).toBeGreaterThan(250);
    expect(ticks).toBeGreaterThan(took / 100);
    expect(maxGap).toBeLessThan(Math.max(200, took / 2));
  });

  for (const how of ['throw', 'exit'] as const) {
    it(`a reader thread that dies part-way (${how}) ends the read with a problem, not a hang`, async () => {
      const want = await trace(inThread, big);
      let n = 0;
      let ok = true;
      const res = await readCaptureInThread(
        big,
        (f) => {
          if (f.index !== ++n) ok = false;
        },
        { ringBytes: 64 * 1024 },
        { crash: { afterFrames: 1000, how } },
      );
      expect(ok).toBe(true);
      expect(n).toBeGreaterThanOrEqual(how === 'exit' ? 1 : 1000);
      expect(n).toBeLessThan(want.frames);
      expect(res.problem).toMatchObject({ fatal: false, message: expect.stringMatching(/^capture reader thread failed: /) });
      expect(res.info.packets).toBe(n);
    });
  }

  it('a worker that cannot start: falls back to reading in this thread', async () => {
    const path = join(SAMPLES, 'mix.pcap');
    const want = await trace(inThread, path, { infoAtFrame: true });
    const got = await trace(
      (p, s, o) => readCaptureInThread(p, s, o, { workerUrl: new URL(`file://${join(tmp, 'no-such-worker.js')}`) }),
      path,
      { infoAtFrame: true },
    );
    expect(got.hash).toBe(want.hash);
    expect(got.result).toStrictEqual(want.result);
    expect(got.infoAtFrame).toStrictEqual(want.infoAtFrame);
  });

  it('a sink that throws: a non-fatal problem like readCapture’s, and the reader thread is stopped', async () => {
    const boom = (f: Frame) => {
      if (f.index === 5000) throw new Error('sink failed');
    };
    const want = await readCapture(big, boom);
    const got = await readCaptureInThread(big, boom, { ringBytes: MIN_RING });
    expect(got.problem).toStrictEqual(want.problem);
    expect(got.problem).toStrictEqual({ fatal: false, message: 'sink failed' });
    expect(got.info.packets).toBe(5000);
  });

  it('stdin (-) is read in the calling thread, with the same result', () => {
    const script = `
      import { readCaptureInThread } from ${JSON.stringify(join(ROOT, 'dist', 'capture', 'threaded.js'))};
      let n = 0;
      const r = await readCaptureInThread('-', () => n++);
      console.log(JSON.stringify({ n, packets: r.info.packets, problem: r.problem }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      input: readFileSync(join(SAMPLES, 'mix.pcap')),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { n: number; packets: number; problem: unknown };
    expect(out.n).toBeGreaterThan(0);
    expect(out).toStrictEqual({ n: out.n, packets: out.n, problem: null });
  });

  it('the process exits once a read is over, finished or abandoned (the worker does not keep it alive)', () => {
    const script = `
      import { readCaptureInThread } from ${JSON.stringify(join(ROOT, 'dist', 'capture', 'threaded.js'))};
      let n = 0;
      const whole = await readCaptureInThread(${JSON.stringify(join(SAMPLES, 'mix.pcap'))}, () => n++);
      let m = 0;
      // Abandoned with the reader thread blocked on a full ring.
      await readCaptureInThread(${JSON.stringify(big)}, () => { if (++m === 10) throw new Error('stop'); }, { ringBytes: 4096 });
      console.log(n === whole.info.packets, m);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.error, 'timed out').toBeUndefined();
    expect(r.stdout.trim()).toBe('true 10');
  });
});
