import type { CaptureInfo, Frame, InterfaceInfo } from './types.js';

/*
 * Keeps a copy of a decoder's live CaptureInfo, on another thread, in step with the frames.
 * Per-frame counters (packets, bytes, truncatedPackets, first/last timestamp) are derived from the
 * frames themselves, exactly as the decoders compute them. Everything else changes rarely (format,
 * interfaces, drop counts, warnings, secrets blocks) and travels as a snapshot placed before the
 * first frame that follows the change. The final ReadResult settles every field at the end.
 */

/** The rarely changing part of CaptureInfo. */
interface Snapshot {
  format: CaptureInfo['format'];
  byteOrder: CaptureInfo['byteOrder'];
  compressed: CaptureInfo['compressed'];
  interfaces: InterfaceInfo[];
  warnings: string[];
  secretsBlocks: number;
}

/** Worker side: notices, cheaply enough to ask before every frame, that a snapshot is due. */
export class InfoWatch {
  private format: CaptureInfo['format'] = null;
  private interfaces = 0;
  private warnings = 0;
  private secrets = 0;
  private readonly dropped: (number | undefined)[] = [];

  /**
   * Decoders only append interfaces and warnings, set format and byte order together once, and
   * change nothing in an interface after adding it except its drop count (pcapng statistics).
   */
  changed(info: CaptureInfo): boolean {
    const ifs = info.interfaces;
    if (ifs.length !== this.interfaces || info.warnings.length !== this.warnings || info.secretsBlocks !== this.secrets || info.format !== this.format) {
      return true;
    }
    for (let i = 0; i < ifs.length; i++) if (ifs[i].dropped !== this.dropped[i]) return true;
    return false;
  }

  snapshot(info: CaptureInfo): string {
    this.format = info.format;
    this.interfaces = info.interfaces.length;
    this.warnings = info.warnings.length;
    this.secrets = info.secretsBlocks;
    this.dropped.length = 0;
    for (const i of info.interfaces) this.dropped.push(i.dropped);
    const s: Snapshot = {
      format: info.format,
      byteOrder: info.byteOrder,
      compressed: info.compressed,
      interfaces: info.interfaces,
      warnings: info.warnings,
      secretsBlocks: info.secretsBlocks,
    };
    return JSON.stringify(s);
  }
}

/** Main side: applies a snapshot in place, so references to the live object stay current. */
export function applySnapshot(live: CaptureInfo, json: string): void {
  const s = JSON.parse(json) as Snapshot;
  live.format = s.format;
  live.byteOrder = s.byteOrder;
  live.compressed = s.compressed;
  syncInterfaces(live.interfaces, s.interfaces);
  replaceAll(live.warnings, s.warnings);
  live.secretsBlocks = s.secretsBlocks;
}

/** The counters a decoder updates for each frame it delivers. */
export function countFrame(live: CaptureInfo, f: Frame): void {
  live.packets = f.index;
  live.bytes += f.data.length;
  if (f.data.length < f.origLen) live.truncatedPackets++;
  if (live.firstTs === null) live.firstTs = { sec: f.tsSec, nsec: f.tsNsec };
  const last = live.lastTs;
  if (last === null) live.lastTs = { sec: f.tsSec, nsec: f.tsNsec };
  else {
    last.sec = f.tsSec;
    last.nsec = f.tsNsec;
  }
}

/** Makes `live` equal to the decoder's final info (a structured clone of it), in place. */
export function settle(live: CaptureInfo, final: CaptureInfo): void {
  live.format = final.format;
  live.byteOrder = final.byteOrder;
  live.compressed = final.compressed;
  syncInterfaces(live.interfaces, final.interfaces);
  live.packets = final.packets;
  live.truncatedPackets = final.truncatedPackets;
  live.bytes = final.bytes;
  live.firstTs = final.firstTs;
  live.lastTs = final.lastTs;
  live.secretsBlocks = final.secretsBlocks;
  replaceAll(live.warnings, final.warnings);
}

function syncInterfaces(live: InterfaceInfo[], src: InterfaceInfo[]): void {
  for (let i = 0; i < src.length; i++) {
    const cur = live[i];
    if (cur === undefined) {
      live.push({ ...src[i] });
      continue;
    }
    const loose = cur as unknown as Record<string, unknown>;
    for (const k of Object.keys(loose)) if (!(k in src[i])) delete loose[k];
    Object.assign(cur, src[i]);
  }
  live.length = src.length;
}

function replaceAll<T>(live: T[], src: T[]): void {
  live.length = 0;
  for (const x of src) live.push(x);
}
