import { decodePacket, isSupportedLinkType } from '../net/decode.js';
import { formatIp, newPacket, sourceAddress, TcpFlag, u32, type Packet } from '../net/types.js';
import { ReassemblyBudget } from '../net/tcp-stream.js';
import type { Frame } from '../capture/types.js';
import type { ConnectionResult, PacketStats } from '../report/model.js';
import { classify } from './classify.js';
import { Connection, type Endpoint } from './connection.js';
import { FlowTable } from './flow-table.js';
import { IssuedRegistry, type IssueKind, type IssueRecord } from './linker.js';
import { buildResult, clientHelloTime } from './result.js';
import type { Side } from './types.js';

export interface AnalyzerOptions {
  /** Called for every finished connection, in the order connections end (streaming output). */
  /** `clientHelloTime`: what a connection's origin age is measured from (result.ts). */
  onConnection?: (c: ConnectionResult, clientHelloTime: number) => void;
  /**
   * Called, in capture order, when a connection issues a session ID or ticket (or first offers a
   * PSK identity) that the linking registry did not know: what a later file's connections may be
   * linked to (the worker threads of several files send these to the merge).
   */
  onIssue?: (kind: IssueKind, key: string, rec: IssueRecord) => void;
  /**
   * To carry on a run whose earlier files were analyzed elsewhere (worker threads): the id of the
   * first connection, and the registry of what the earlier files' connections issued.
   */
  firstId?: number;
  issued?: IssuedRegistry;
}

/**
 * Frames in, connection results out. Connections live in a flow table keyed by their 4-tuple; a
 * connection ends on RST, on FIN from both sides, when a new SYN reuses its 4-tuple, or at the end
 * of its capture file. Files are separate captures: a connection never spans two files, but the
 * session IDs and tickets issued in one file are remembered for the next.
 */
export class Analyzer {
  readonly stats: PacketStats = {
    tcp: 0,
    udp: 0,
    otherIp: 0,
    notIp: 0,
    ipFragments: 0,
    malformed: 0,
    truncated: 0,
    unsupportedLink: 0,
    afterClose: 0,
  };
  readonly unsupportedLinkTypes = new Set<number>();
  private readonly flows = new FlowTable<Connection>();
  /** 4-tuples of connections ended by FIN or RST, so their late retransmissions are recognised. */
  private readonly closedFlows = new FlowTable<true>();
  private readonly issued: IssuedRegistry;
  private readonly pkt: Packet = newPacket();
  /** Out-of-order bytes held across all connections (see ReassemblyBudget). */
  readonly budget = new ReassemblyBudget();
  private nextId: number;
  private file = '';
  private nanos: () => boolean = () => false;

  constructor(private readonly opts: AnalyzerOptions = {}) {
    this.nextId = opts.firstId ?? 1;
    this.issued = opts.issued ?? new IssuedRegistry();
  }

  /** Connections started so far (ids firstId..). */
  get connectionCount(): number {
    return this.nextId - (this.opts.firstId ?? 1);
  }

  /** `nanos` tells, when a connection is reported, whether the file's timestamps are finer than 1 µs. */
  startFile(file: string, nanos: () => boolean): void {
    this.file = file;
    this.nanos = nanos;
  }

  frame(f: Frame): void {
    const p = this.pkt;
    // A frame captured whole cannot be missing IP payload: a longer IP length is bogus, not a cut.
    const r = decodePacket(f.linkType, f.data, p, f.data.length < f.origLen);
    if (r !== 'ok') {
      this.countSkip(r, f.linkType);
      return;
    }
    if (p.proto === 17) {
      this.stats.udp++;
      return;
    }
    this.stats.tcp++;
    let conn = this.flows.probe(p);
    const syn = (p.flags & TcpFlag.SYN) !== 0;
    const synOnly = syn && (p.flags & TcpFlag.ACK) === 0;
    if (conn && synOnly && this.isNewConnection(conn, p)) {
      this.end(conn);
      conn = undefined;
    }
    if (!conn) {
      // Bare ACKs, FINs and RSTs of a connection already ended (or never seen) carry nothing to analyze.
      if (!syn && p.payloadLength === 0) return;
      if (this.closedFlows.size > 0 && this.closedFlows.probe(p) !== undefined) {
        // Retransmissions after a connection closed are stragglers, not a new connection.
        if (!syn) {
          this.stats.afterClose++;
          return;
        }
        this.closedFlows.delete(this.closedFlows.probedKey());
      }
      conn = new Connection(
        this.nextId++,
        // Addresses as text at once: every report needs it, and a string is less to keep than bytes.
        endpoint(p, p.srcOffset, p.srcPort),
        endpoint(p, p.dstOffset, p.dstPort),
        (c, what, key, lifetimeHint) => this.issue(c, what, key, lifetimeHint),
        this.budget,
      );
      // The table's scratch still holds this packet's tuple from the probe above.
      conn.flowKey = this.flows.insertProbed(conn);
    }
    const side = sideOf(conn, p);
    conn.packet(side, f.index, f.tsSec, f.tsNsec, p.seq, p.flags, f.data, p.payloadOffset, p.payloadLength, p.wireLength);
    if (conn.closed) this.end(conn);
  }

  /** Ends every open connection (end of a capture file). */
  endFile(): void {
    this.closedFlows.clear();
    const open = [...this.flows.values()].sort((x, y) => x.id - y.id);
    for (const conn of open) this.end(conn);
  }

  private isNewConnection(conn: Connection, p: Packet): boolean {
    if (conn.closed) return true;
    // A retransmitted SYN repeats the initial sequence number; any other SYN opens a new connection.
    const side = sideOf(conn, p);
    const tcp = conn.dirs[side].tcp;
    return tcp.synSeen ? tcp.isn !== p.seq : tcp.started;
  }

  private issue(c: Connection, what: IssueKind, key: string, lifetimeHint: number | null): void {
    const cs = c.trace.clientSide ?? 0;
    const server = c.sides[cs === 0 ? 1 : 0];
    const ch = c.trace.clientHellos[c.trace.clientHellos.length - 1];
    const rec: IssueRecord = {
      conn: c.id,
      serverIp: server.ip,
      serverPort: server.port,
      sni: ch?.sni ?? null,
      time: c.curTime,
      lifetimeHint,
    };
    if (this.issued.issue(what, key, rec)) this.opts.onIssue?.(what, key, rec);
  }

  private end(conn: Connection): void {
    this.flows.delete(conn.flowKey!);
    if (conn.closed) {
      if (this.closedFlows.size >= MAX_CLOSED_FLOWS) this.closedFlows.delete(this.closedFlows.anyKey()!);
      this.closedFlows.insertKey(conn.flowKey!, true);
    }
    const trace = conn.finish();
    const c = classify(trace, this.issued.excluding(conn.id));
    this.opts.onConnection?.(buildResult(conn, trace, c, this.file, this.nanos(), this.issued), clientHelloTime(conn, trace));
  }

  private countSkip(r: string, linkType: number): void {
    const s = this.stats;
    switch (r) {
      case 'unsupported-link':
        s.unsupportedLink++;
        if (!isSupportedLinkType(linkType)) this.unsupportedLinkTypes.add(linkType);
        break;
      case 'not-ip':
        s.notIp++;
        break;
      case 'truncated':
        s.truncated++;
        break;
      case 'ip-fragment':
        s.ipFragments++;
        break;
      case 'other-protocol':
        s.otherIp++;
        break;
      default:
        s.malformed++;
    }
  }
}

const MAX_CLOSED_FLOWS = 65_536;

/**
 * IPv4 addresses as text, by number: servers (and often clients) recur, and one shared string
 * each is quicker than formatting again and less to keep in the findings. Cleared when full.
 */
const v4Text = new Map<number, string>();
const MAX_V4_TEXT = 65_536;

function endpoint(p: Packet, at: number, port: number): Endpoint {
  const d = p.data;
  if (p.ipVersion === 4) {
    const v4 = u32(d, at);
    let ip = v4Text.get(v4);
    if (ip === undefined) {
      if (v4Text.size >= MAX_V4_TEXT) v4Text.clear();
      ip = formatIp(d.subarray(at, at + 4));
      v4Text.set(v4, ip);
    }
    return { ip, port, v4 };
  }
  return { ip: formatIp(d.subarray(at, at + 16)), port, v4: -1 };
}

/** Which endpoint of `conn` sent `p` (a packet of its 4-tuple): the ports tell, unless they are equal. */
function sideOf(conn: Connection, p: Packet): Side {
  const [a, b] = conn.sides;
  if (a.port !== b.port) return a.port === p.srcPort ? 0 : 1;
  if (a.v4 >= 0) return a.v4 === u32(p.data, p.srcOffset) ? 0 : 1;
  return a.ip === formatIp(sourceAddress(p)) ? 0 : 1;
}
