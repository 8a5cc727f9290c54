// Types for core.mjs (plain JavaScript so that scripts/fuzz.mjs can run it under bare Node).
import type { ConnectionResult, PacketStats, Report, Summary } from '../../src/report/model.js';
import type { CaptureInfo, CaptureProblem, CaptureDecoder, FrameSink } from '../../src/capture/types.js';

/** The code under test, injected: src/ in vitest, dist/ in the soak script. */
export interface Api {
  PcapDecoder: new (sink: FrameSink) => CaptureDecoder;
  PcapngDecoder: new (sink: FrameSink) => CaptureDecoder;
  Analyzer: new (opts: { onConnection?: (c: ConnectionResult) => void }) => {
    readonly stats: PacketStats;
    startFile(file: string, nanos: () => boolean): void;
    frame(f: import('../../src/capture/types.js').Frame): void;
    endFile(): void;
  };
  SummaryBuilder: new () => { add(c: ConnectionResult): void; result(udp: number): Summary };
  analyzeCaptures(paths: string[]): Promise<Report>;
  renderText(r: Report, o: { color: boolean; verbose: boolean; limit: number }): string;
  renderJson(r: Report): string;
}

/** How the bytes reach write(): all at once, fixed-size chunks, seeded random sizes, or cut at given offsets. */
export type ChunkPlan =
  | { kind: 'whole' }
  | { kind: 'fixed'; n: number }
  | { kind: 'random'; max: number; seed?: number }
  | { kind: 'cuts'; at: number[] };

export interface Field {
  off: number;
  w: number;
  le: boolean;
  kind: string;
}
export interface Layout {
  format: string;
  headerEnd: number;
  units: { start: number; end: number; packet: boolean; tail?: boolean; type?: number }[];
  fields: Field[];
  packets: { off: number; len: number; linkType: number }[];
}
export interface Seed {
  name: string;
  bytes: Buffer;
  keys: Buffer | null;
  layout: Layout;
}
export interface FuzzFile {
  name: string;
  bytes: Buffer;
}
export interface FuzzCase {
  seed: number;
  index: number;
  strategies: string[];
  notes: string[];
  sources: string[];
  files: FuzzFile[];
  mode: 'mem' | 'file' | 'gzip';
  plan: ChunkPlan;
  gzip?: { truncate: number | null; flip: number | null };
}
export interface MemoryRun {
  connections: ConnectionResult[];
  summary: Summary;
  stats: PacketStats;
  captures: { info: CaptureInfo; problem: CaptureProblem | null }[];
  frames: number;
}

export class Rng {
  constructor(seed: number);
  float(): number;
  int(n: number): number;
  range(a: number, b: number): number;
  chance(p: number): boolean;
  pick<T>(a: readonly T[]): T;
  u32(): number;
  bytes(n: number): Buffer;
}
export function mulberry32(seed: number): () => number;
export function caseSeed(seed: number, index: number): number;
export function corpusFiles(root: string): string[];
export function loadCorpus(root: string): Seed[];
export function sniff(b: Uint8Array): 'gzip' | 'pcap' | 'pcapng' | 'unknown';
export function pcapToPcapng(pcap: Buffer, opts?: { le?: boolean; keys?: Buffer | null }): Buffer | null;
export function describe(b: Buffer): Layout;
export const STRATEGIES: Record<string, (rng: Rng, ctx: { a: { bytes: Buffer; layout: Layout }; b?: { bytes: Buffer; layout: Layout } | null }) => { bytes: Buffer; note: string }>;
export function makeCase(corpus: Seed[], seed: number, index: number, opts?: { strategy?: string; mode?: FuzzCase['mode'] }): FuzzCase;
export function describeCase(c: FuzzCase): string;
export function runMemory(api: Api, files: FuzzFile[], plan: ChunkPlan, opts?: { scribble?: boolean }): MemoryRun;
export function runFiles(api: Api, c: FuzzCase, dir: string): Promise<{ report: Report; text: string; json: string }>;
export function yieldToEventLoop(): Promise<void>;
export function runCase(api: Api, c: FuzzCase, opts?: { tmpDir?: string }): Promise<{ ms: number }>;
export class InvariantError extends Error {}
export function checkConnections(conns: ConnectionResult[], summary: Summary): void;
export function checkMemoryRun(r: MemoryRun): void;
export function checkReport(report: Report, nfiles: number): void;
export function comparableRun(r: MemoryRun): unknown;
export function firstDifference(a: unknown, b: unknown, path?: string): string | null;
export const GUARDS: Record<string, (c: FuzzCase) => boolean>;
export function guardedBy(known: { id: string; guard?: string }[], c: FuzzCase): string | null;
export function knownBugFor(known: { id: string; match?: string; guard?: string }[], sig: string, c: FuzzCase | null): string | null;
export function signature(err: unknown): string;
export function minimize(bytes: Buffer, fails: (b: Buffer) => Promise<boolean>, budgetMs?: number): Promise<Buffer>;
export function project(conns: ConnectionResult[]): {
  id: number;
  client: string;
  server: string;
  tls: boolean;
  version: string | null;
  kind: string;
  offered: string[] | null;
  rejected: boolean | null;
  helloRetry: boolean;
  earlyData: string | null;
}[];
