import { describe, expect, it } from 'vitest';
import { PcapDecoder } from '../../src/capture/pcap.js';
import type { Frame } from '../../src/capture/types.js';
import { pcapFile } from '../helpers/build.js';

interface Got {
  index: number;
  sec: number;
  nsec: number;
  data: string;
  orig: number;
}

function decode(file: Buffer, chunk: number): { frames: Got[]; d: PcapDecoder } {
  const frames: Got[] = [];
  const d = new PcapDecoder((f: Frame) =>
    frames.push({ index: f.index, sec: f.tsSec, nsec: f.tsNsec, data: Buffer.from(f.data).toString('hex'), orig: f.origLen }),
  );
  for (let i = 0; i < file.length; i += chunk) if (!d.write(file.subarray(i, i + chunk))) break;
  d.end();
  return { frames, d };
}

const recs = [
  { sec: 10, frac: 1, data: Uint8Array.from([1, 2, 3]) },
  { sec: 11, frac: 999_999, data: new Uint8Array(0) },
  { sec: 12, frac: 0, data: new Uint8Array(0), origLen: 60 },
  { sec: 13, frac: 5, data: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff) },
];

describe('classic pcap decoder', () => {
  for (const [name, opts] of [
    ['little-endian µs', {}],
    ['big-endian µs', { bigEndian: true }],
    ['little-endian ns', { nanos: true }],
    ['big-endian ns', { bigEndian: true, nanos: true }],
  ] as const) {
    it(`${name}: identical frames for every chunk size, zero-length records included`, () => {
      const file = pcapFile(recs, opts);
      const want = decode(file, file.length).frames;
      expect(want).toHaveLength(4);
      expect(want[0]).toEqual({ index: 1, sec: 10, nsec: 'nanos' in opts ? 1 : 1000, data: '010203', orig: 3 });
      expect(want[2].orig).toBe(60);
      for (let chunk = 1; chunk <= 40; chunk++) expect(decode(file, chunk).frames, `chunk ${chunk}`).toEqual(want);
    });
  }

  it('a truncated last record is a warning, the records before it stay', () => {
    const file = pcapFile(recs);
    const { frames, d } = decode(file.subarray(0, file.length - 10), 7);
    expect(frames).toHaveLength(3);
    expect(d.problem).toBeNull();
    expect(d.info.warnings[0]).toMatch(/capture ends in the middle of packet 4/);
  });

  it('a corrupt record length stops at the right offset without buffering the rest', () => {
    const file = pcapFile(recs);
    const bad = Buffer.from(file);
    // Second record header starts after the global header and the first record (16 + 3 bytes).
    bad.writeUInt32LE(0x7fff0000, 24 + 19 + 8);
    for (const chunk of [1, 5, 64, bad.length]) {
      const { frames, d } = decode(bad, chunk);
      expect(frames).toHaveLength(1);
      expect(d.problem?.fatal).toBe(false);
      expect(d.problem?.message).toMatch(/corrupt packet record at byte 43 /);
      expect(d.problem?.offset).toBe(43);
    }
  });

  it('rejects what is not a pcap file', () => {
    const { d } = decode(Buffer.from('hello, this is not a capture file at all'), 8);
    expect(d.problem).toEqual({ fatal: true, message: 'not a pcap file (unknown magic number)', offset: 0 });
    expect(decode(Buffer.alloc(0), 1).d.problem?.message).toBe('empty file');
    expect(decode(pcapFile([]).subarray(0, 10), 3).d.problem?.message).toMatch(/too short for a pcap header/);
  });
});
