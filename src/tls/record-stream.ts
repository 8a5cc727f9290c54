import type { StreamConsumer } from '../net/tcp-stream.js';
import { ContentType } from './constants.js';

/** RFC 8446 §5.2: a TLSCiphertext may carry 2^14 + 256 bytes; RFC 5246 allows + 2048. */
export const MAX_RECORD = (1 << 14) + 2048;
/** Largest handshake message buffered; certificate chains beyond this are reported, not kept. */
export const MAX_HANDSHAKE_MESSAGE = 256 * 1024;
/** Plaintext (pre-STARTTLS) bytes inspected per direction before deciding it is not TLS. */
export const MAX_PROBE_BYTES = 64 * 1024;

/**
 * What a direction's TLS reader tells its connection, with the side it reads for. One object (the
 * connection) serves both directions' readers, so no closures are made per connection.
 */
export interface TlsEvents {
  /** A plaintext handshake message (type and body without the 4-byte header). */
  onHandshake(side: number, type: number, body: Uint8Array): void;
  /** An SSLv2-format record (2-byte header), body after the header. */
  onSslv2(side: number, body: Uint8Array): void;
  onCcs(side: number): void;
  onAlert(side: number, level: number, description: number): void;
  /** A record the reader cannot see into: application data, or anything after ChangeCipherSpec. */
  onEncrypted(side: number, contentType: number, length: number): void;
  /** The stream stopped making sense (bad record header, oversize message, lost bytes). */
  onProblem(side: number, message: string): void;
  /** Bytes were lost in the middle of something that mattered. */
  onLost(side: number, what: string): void;
}

type Mode = 'probe' | 'tls' | 'lost' | 'off';

function plausibleHeader(b0: number, b1: number, b2: number): boolean {
  return b0 >= ContentType.ChangeCipherSpec && b0 <= ContentType.Heartbeat && b1 === 3 && b2 <= 4;
}

/**
 * One direction's TLS record layer and handshake reassembly. Application data and encrypted
 * records are skipped by length without being buffered; only plaintext handshake messages (capped),
 * alerts and the ChangeCipherSpec byte are looked at.
 */
export class TlsStream implements StreamConsumer {
  mode: Mode = 'probe';
  /** Set by the connection when this direction's records are encrypted from now on. */
  encrypted = false;
  /** TLS records seen (any content type): the direction spoke TLS even without a hello. */
  records = 0;
  private probed = 0;
  /** Bytes of a record header split across deliveries, accumulated big-endian (up to 5 bytes). */
  private hdrAcc = 0;
  private hdrLen = 0;
  private recType = 0;
  private recLeft = 0;
  private recLen = 0;
  /** SSLv2 record being gathered. */
  private v2: Uint8Array | null = null;
  private v2Len = 0;
  private v2Need = 0;
  // Handshake message assembly.
  /** Bytes of a handshake message header, accumulated big-endian (up to 4 bytes). */
  private hsHdrAcc = 0;
  private hsHdrLen = 0;
  private hsType = 0;
  private hsLen = 0;
  private hsBuf: Uint8Array | null = null;
  private hsHave = 0;
  private hsSkip = 0;
  private alertBuf = -1;

  constructor(
    private readonly ev: TlsEvents,
    private readonly side = 0,
  ) {}

  stop(): void {
    this.mode = 'off';
  }

  onGap(bytes: number): void {
    if (this.mode === 'off' || this.mode === 'probe') return;
    if (this.mode === 'tls') {
      const inHandshake = this.hsHdrLen > 0 || this.hsBuf !== null;
      if (this.recLeft === 0 && this.hdrLen === 0) {
        // Lost whole records: what they were cannot be known.
        this.ev.onLost(this.side, `${bytes} bytes lost between records`);
      } else if (this.recType === ContentType.Handshake && !this.encrypted) {
        this.ev.onLost(this.side, inHandshake ? `${bytes} bytes lost inside a handshake message` : `${bytes} bytes lost in a handshake record`);
      } else if (this.recLeft >= bytes && this.hdrLen === 0) {
        // Inside an application-data or encrypted record: only its length mattered, and we know it.
        this.recLeft -= bytes;
        return;
      } else {
        this.ev.onLost(this.side, `${bytes} bytes lost across a record boundary`);
      }
    }
    this.resetRecord();
    this.mode = 'lost';
  }

  onData(data: Uint8Array, segmentStart: boolean): void {
    let pos = 0;
    const n = data.length;
    while (pos < n) {
      switch (this.mode) {
        case 'off':
          return;
        case 'probe':
        case 'lost': {
          if (!segmentStart || pos !== 0 || !this.canStart(data)) {
            if (this.mode === 'probe') {
              this.probed += n - pos;
              if (this.probed > MAX_PROBE_BYTES) this.mode = 'off';
            }
            return;
          }
          if ((data[0] & 0x80) !== 0) {
            this.startV2(data);
            pos = this.feedV2(data, 0);
          } else {
            this.mode = 'tls';
          }
          break;
        }
        case 'tls':
          if (this.v2) {
            pos = this.feedV2(data, pos);
            break;
          }
          pos = this.feedTls(data, pos);
          break;
      }
    }
  }

  /** Could a TLS (or SSLv2 hello) record start at data[0]? Short segments get the benefit of the doubt. */
  private canStart(d: Uint8Array): boolean {
    const b0 = d[0];
    // An SSLv2 hello can only open a stream; later, a high first byte is just ciphertext.
    if ((b0 & 0x80) !== 0 && this.mode === 'probe' && this.probed === 0 && this.records === 0) {
      // SSLv2 record header: 2-byte length, then CLIENT-HELLO (1) or SERVER-HELLO (4).
      if (d.length < 3) return false;
      const len = ((b0 & 0x7f) << 8) | d[1];
      return len >= 9 && (d[2] === 1 || d[2] === 4);
    }
    if ((b0 & 0x80) !== 0) return false;
    if (b0 < ContentType.ChangeCipherSpec || b0 > ContentType.Heartbeat) return false;
    if (d.length >= 3) return plausibleHeader(b0, d[1], d[2]);
    return d.length < 2 || d[1] === 3;
  }

  private startV2(d: Uint8Array): void {
    this.v2Need = ((d[0] & 0x7f) << 8) | d[1];
    this.v2 = new Uint8Array(this.v2Need);
    this.v2Len = 0;
    this.mode = 'tls';
  }

  private feedV2(d: Uint8Array, pos: number): number {
    let p = pos;
    if (p === 0 && this.v2Len === 0 && this.v2Need === (((d[0] & 0x7f) << 8) | d[1])) p = 2;
    const take = Math.min(this.v2Need - this.v2Len, d.length - p);
    this.v2!.set(d.subarray(p, p + take), this.v2Len);
    this.v2Len += take;
    if (this.v2Len === this.v2Need) {
      const body = this.v2!;
      this.v2 = null;
      this.records++;
      this.ev.onSslv2(this.side, body);
      // After an SSLv2 hello the peer answers in TLS (or SSLv2, which is not followed further).
    }
    return p + take;
  }

  private resetRecord(): void {
    this.hdrLen = 0;
    this.hdrAcc = 0;
    this.recLeft = 0;
    this.hsHdrLen = 0;
    this.hsHdrAcc = 0;
    this.hsBuf = null;
    this.hsHave = 0;
    this.hsSkip = 0;
    this.alertBuf = -1;
    this.v2 = null;
  }

  private feedTls(d: Uint8Array, pos: number): number {
    if (this.recLeft === 0) {
      if (this.hdrLen === 0 && pos >= d.length) return pos;
      let b0: number, b1: number, b2: number, len: number;
      if (this.hdrLen === 0 && d.length - pos >= 5) {
        b0 = d[pos];
        b1 = d[pos + 1];
        b2 = d[pos + 2];
        len = (d[pos + 3] << 8) | d[pos + 4];
        pos += 5;
      } else {
        // Record header split across deliveries.
        while (this.hdrLen < 5 && pos < d.length) {
          this.hdrAcc = this.hdrAcc * 256 + d[pos++];
          this.hdrLen++;
        }
        if (this.hdrLen < 5) return pos;
        const acc = this.hdrAcc;
        b0 = Math.floor(acc / 2 ** 32);
        b1 = Math.floor(acc / 2 ** 24) & 0xff;
        b2 = Math.floor(acc / 2 ** 16) & 0xff;
        len = acc % 65536;
        this.hdrLen = 0;
        this.hdrAcc = 0;
      }
      if (!plausibleHeader(b0, b1, b2) || len > MAX_RECORD) {
        const hex = Buffer.from([b0, b1, b2, len >> 8, len & 0xff]).toString('hex');
        this.ev.onProblem(this.side, `not a TLS record header (${hex}): ${len > MAX_RECORD ? `length ${len} over the maximum` : 'bad type or version'}`);
        this.resetRecord();
        this.mode = 'lost';
        return d.length;
      }
      this.records++;
      this.recType = b0;
      this.recLeft = len;
      this.recLen = len;
      if (len === 0) return pos;
      // A one-byte ChangeCipherSpec is never encrypted (TLS 1.3 sends it as a compatibility dummy).
      if (this.recType === ContentType.ChangeCipherSpec && len === 1) {
        // handled below as plaintext
      } else if (this.recType === ContentType.ApplicationData || this.encrypted || (this.recType === ContentType.Alert && len !== 2)) {
        // A plaintext alert is two bytes; any other length is an encrypted one (a capture that
        // started after the ChangeCipherSpec cannot know the direction is encrypted).
        this.ev.onEncrypted(this.side, this.recType, len);
      }
    }
    const take = Math.min(this.recLeft, d.length - pos);
    this.recLeft -= take;
    if (this.recType === ContentType.ChangeCipherSpec) {
      if (this.recLeft === 0) this.ev.onCcs(this.side);
    } else if (!this.encrypted) {
      // Only plaintext handshake and alert bytes are looked at; the rest is skipped by length.
      switch (this.recType) {
        case ContentType.Handshake:
          this.feedHandshake(d, pos, pos + take);
          break;
        case ContentType.Alert:
          if (this.recLen === 2) this.feedAlert(d, pos, pos + take);
          break;
      }
    }
    return pos + take;
  }

  private feedAlert(d: Uint8Array, from: number, to: number): void {
    for (let i = from; i < to; i++) {
      if (this.alertBuf < 0) this.alertBuf = d[i];
      else {
        this.ev.onAlert(this.side, this.alertBuf, d[i]);
        this.alertBuf = -1;
      }
    }
  }

  private feedHandshake(chunk: Uint8Array, from: number, to: number): void {
    let p = from;
    while (p < to) {
      if (this.hsSkip > 0) {
        const s = Math.min(this.hsSkip, to - p);
        this.hsSkip -= s;
        p += s;
        continue;
      }
      if (this.hsBuf === null) {
        while (this.hsHdrLen < 4 && p < to) {
          this.hsHdrAcc = this.hsHdrAcc * 256 + chunk[p++];
          this.hsHdrLen++;
        }
        if (this.hsHdrLen < 4) return;
        this.hsType = Math.floor(this.hsHdrAcc / 2 ** 24);
        this.hsLen = this.hsHdrAcc % 2 ** 24;
        this.hsHdrLen = 0;
        this.hsHdrAcc = 0;
        if (this.hsLen > MAX_HANDSHAKE_MESSAGE) {
          this.ev.onProblem(this.side, `handshake message type ${this.hsType} of ${this.hsLen} bytes is over the ${MAX_HANDSHAKE_MESSAGE}-byte cap: skipped`);
          this.hsSkip = this.hsLen;
          continue;
        }
        // Whole message inside this chunk: hand out a view, no copy.
        if (to - p >= this.hsLen) {
          const body = chunk.subarray(p, p + this.hsLen);
          p += this.hsLen;
          this.ev.onHandshake(this.side, this.hsType, body);
          continue;
        }
        this.hsBuf = new Uint8Array(this.hsLen);
        this.hsHave = 0;
      }
      const take = Math.min(this.hsLen - this.hsHave, to - p);
      this.hsBuf.set(chunk.subarray(p, p + take), this.hsHave);
      this.hsHave += take;
      p += take;
      if (this.hsHave === this.hsLen) {
        const body = this.hsBuf;
        this.hsBuf = null;
        this.ev.onHandshake(this.side, this.hsType, body);
      }
    }
  }
}
