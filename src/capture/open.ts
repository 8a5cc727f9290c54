import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { PcapDecoder } from './pcap.js';
import type { CaptureDecoder, CaptureInfo, FrameSink, ReadResult } from './types.js';
import { emptyCaptureInfo } from './types.js';

const READ_CHUNK = 1 << 20;

export interface ReadOptions {
  /** Called once the format is known, with the decoder's live capture info. */
  onStart?: (info: CaptureInfo) => void;
  /** Called with bytes consumed from the (possibly compressed) source, for progress. */
  onProgress?: (bytesRead: number) => void;
}

/** Size of a regular file, or null for stdin, pipes and devices. */
export function sourceSize(path: string): number | null {
  if (path === '-') return null;
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

type Kind = 'gzip' | 'pcap' | 'pcapng' | 'unknown';

function sniff(head: Uint8Array): Kind {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length < 4) return 'unknown';
  const m = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
  if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) return 'pcap';
  if (m === 0x0a0d0d0a) return 'pcapng';
  return 'unknown';
}

async function makeDecoder(kind: Kind, sink: FrameSink): Promise<CaptureDecoder | null> {
  if (kind === 'pcap') return new PcapDecoder(sink);
  if (kind === 'pcapng') {
    const { PcapngDecoder } = await import('./pcapng.js');
    return new PcapngDecoder(sink);
  }
  return null;
}

/**
 * Reads a capture (path, or '-' for stdin), choosing the format by magic number, never by name,
 * and decompressing gzip on the fly. Frames go to `sink` synchronously; the promise settles when
 * the input is consumed or the decoder stopped. Read errors become a fatal problem, not a throw.
 */
export async function readCapture(path: string, sink: FrameSink, opts: ReadOptions = {}): Promise<ReadResult> {
  let raw: Readable;
  try {
    raw = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: READ_CHUNK });
  } catch (err) {
    return failed((err as Error).message);
  }
  let rawBytes = 0;
  if (opts.onProgress) {
    const cb = opts.onProgress;
    raw.on('data', (c: Buffer) => {
      rawBytes += c.length;
      cb(rawBytes);
    });
  }
  try {
    return await decodeStream(raw, sink, false, opts.onStart);
  } catch (err) {
    return failed(describeIoError(err));
  } finally {
    if (path !== '-') raw.destroy();
  }
}

async function decodeStream(
  stream: Readable,
  sink: FrameSink,
  compressed: boolean,
  onStart?: (info: CaptureInfo) => void,
): Promise<ReadResult> {
  let decoder: CaptureDecoder | null = null;
  let head: Buffer | null = Buffer.alloc(0);
  try {
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (head) {
      head = Buffer.concat([head, chunk]);
      if (head.length < 4) continue;
      const kind = sniff(head);
      if (kind === 'gzip' && !compressed) {
        const gunzip = createGunzip({ chunkSize: READ_CHUNK });
        const rest = head;
        head = null;
        // Feed what was already read, then the remainder of the source, through zlib.
        const fed = (async () => {
          gunzip.write(rest);
          for await (const c of stream as AsyncIterable<Buffer>) {
            if (!gunzip.write(c)) await new Promise((r) => gunzip.once('drain', r));
          }
          gunzip.end();
        })();
        fed.catch((err) => gunzip.destroy(err as Error));
        const result = await decodeStream(gunzip, sink, true, onStart);
        stream.destroy();
        result.info.compressed = 'gzip';
        return result;
      }
      decoder = await makeDecoder(kind, sink);
      if (!decoder) return failed(compressed ? 'gzip data is not a pcap or pcapng capture' : 'not a pcap or pcapng capture (unknown magic number)');
      onStart?.(decoder.info);
      const first = head;
      head = null;
      if (!decoder.write(first)) break;
      continue;
    }
    if (!decoder!.write(chunk)) break;
  }
  } catch (err) {
    // A read or decompression error after packets were decoded keeps those results.
    if (!decoder) throw err;
    decoder.end();
    return { info: decoder.info, problem: decoder.problem ?? { fatal: false, message: describeIoError(err) } };
  }
  if (head) {
    return failed(head.length === 0 ? 'empty file' : `file too short to be a capture (${head.length} bytes)`);
  }
  decoder!.end();
  return { info: decoder!.info, problem: decoder!.problem };
}

function failed(message: string): ReadResult {
  return { info: emptyCaptureInfo(), problem: { fatal: true, message } };
}

function describeIoError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'Z_DATA_ERROR':
    case 'Z_BUF_ERROR':
      return `corrupt gzip data (${e.message})`;
    default:
      return e?.message ?? String(err);
  }
}
