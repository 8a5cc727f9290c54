/**
 * One captured packet as the readers hand it on. Readers reuse a single Frame object
 * and may reuse `data`'s backing memory: a sink must copy what it keeps past the call.
 */
export interface Frame {
  /** 1-based position of the packet in its capture file (Wireshark's frame number). */
  index: number;
  /** Seconds since the epoch (integer). */
  tsSec: number;
  /** Nanoseconds within the second (integer 0..999_999_999), exact for µs and ns captures. */
  tsNsec: number;
  /** tcpdump.org LINKTYPE_* value of the interface the packet came from. */
  linkType: number;
  /** Captured bytes (may be shorter than origLen when the snaplen cut the packet). */
  data: Uint8Array;
  /** Length of the packet on the wire. */
  origLen: number;
  /** Interface index (pcapng); 0 for classic pcap. */
  iface: number;
}

export type FrameSink = (frame: Frame) => void;

export type CaptureFormat = 'pcap' | 'pcap-ns' | 'pcapng';

export interface InterfaceInfo {
  linkType: number;
  snaplen: number;
  name?: string;
  /** Timestamps finer than a microsecond (nanosecond pcap, pcapng if_tsresol > 6). */
  subMicrosecond?: boolean;
  /** Packets the interface statistics say were dropped, when the capture records it. */
  dropped?: number;
}

/** What the reader learned about the file itself, filled in as it reads. */
export interface CaptureInfo {
  format: CaptureFormat | null;
  /** 'big' or 'little': byte order of the file (first section for pcapng). */
  byteOrder: 'big' | 'little' | null;
  compressed: 'gzip' | null;
  interfaces: InterfaceInfo[];
  packets: number;
  /** Packets whose captured length is less than their original length. */
  truncatedPackets: number;
  bytes: number;
  firstTs: { sec: number; nsec: number } | null;
  lastTs: { sec: number; nsec: number } | null;
  /** Decryption Secrets Blocks seen (pcapng). */
  secretsBlocks: number;
  warnings: string[];
}

/**
 * A reader stops at the first thing in the file it cannot trust; what was read before it stays
 * valid. `fatal` problems mean nothing usable was found (not a capture, unsupported version);
 * others end the read early but keep the results so far.
 */
export interface CaptureProblem {
  fatal: boolean;
  message: string;
  /** Byte offset in the (decompressed) file where the problem starts. */
  offset?: number;
}

export interface ReadResult {
  info: CaptureInfo;
  problem: CaptureProblem | null;
}

export function emptyCaptureInfo(): CaptureInfo {
  return {
    format: null,
    byteOrder: null,
    compressed: null,
    interfaces: [],
    packets: 0,
    truncatedPackets: 0,
    bytes: 0,
    firstTs: null,
    lastTs: null,
    secretsBlocks: 0,
    warnings: [],
  };
}

/**
 * A push decoder for one capture format. The caller feeds the file's bytes in chunks of any size;
 * the decoder calls its sink synchronously for every complete packet. After a problem the decoder
 * ignores further input (`write` returns false) so a corrupt length never makes it buffer the rest.
 */
export interface CaptureDecoder {
  /** Returns false once the decoder has stopped (problem found); the caller should stop reading. */
  write(chunk: Uint8Array): boolean;
  /** End of input: reports a truncated last record/block as a warning or problem. */
  end(): void;
  readonly info: CaptureInfo;
  readonly problem: CaptureProblem | null;
}
