import { u32, type Packet } from '../net/types.js';

/** A connection's 4-tuple in canonical order (lower endpoint first), as the table stores it. */
export interface FlowKey {
  /**
   * IPv6 flows: the lower address, then the higher one (32 bytes), copied when the flow was
   * inserted. null for IPv4, whose addresses fit in `lo` and `hi`.
   */
  v6: Uint8Array | null;
  hash: number;
  lo: number;
  hi: number;
  /** lower endpoint's port × 65536 + higher endpoint's port */
  ports: number;
}

interface Slot<V> {
  key: FlowKey;
  value: V;
  next: Slot<V> | null;
}

/** Compares 16-byte addresses at two offsets of `d`: negative, 0 or positive. */
function compare16(d: Uint8Array, a: number, b: number): number {
  for (let i = 0; i < 16; i++) {
    const x = d[a + i] - d[b + i];
    if (x !== 0) return x;
  }
  return 0;
}

function mix(h: number, word: number): number {
  h = Math.imul(h ^ word, 0xcc9e2d51);
  return Math.imul((h << 15) | (h >>> 17), 0x1b873593);
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

/** Emptied hash entries tolerated before a map is rebuilt (and at least as many as live ones). */
const MIN_REBUILD = 256;

/**
 * Flows by 4-tuple. Looking up a packet computes its canonical tuple into scratch fields and a
 * 32-bit hash, so the per-packet path allocates nothing, for IPv6 as for IPv4; collisions chain
 * and are told apart by the full tuple.
 *
 * A hash whose last flow ends is set to null, not deleted from its Map: with a Map.delete per
 * ended connection, V8 (Node 20) did not collect the ended connections young; they were copied by
 * the young-generation collections and promoted to the old generation
 * (137 MB promoted on the 200 MiB handshake benchmark, against 20 MB with null entries;
 * bench/map-delete-promotion.mjs shows it alone). The maps are rebuilt without their null entries
 * once those outnumber the live ones.
 */
export class FlowTable<V> {
  /** Hash → chain of flows: IPv4 flows in [0], IPv6 flows in [1]. */
  private readonly maps = [new Map<number, Slot<V> | null>(), new Map<number, Slot<V> | null>()];
  /** Entries set to null in each map. */
  private readonly emptied = [0, 0];
  /** Where anyKey() goes on from, so evicting one entry after another does not rescan the front. */
  private cursor: Iterator<Slot<V> | null> | null = null;
  private count = 0;
  // The last probed tuple. For IPv6 the addresses stay in the packet: pData at pLoOff and pHiOff.
  private pIsV6 = false;
  private pData: Uint8Array | null = null;
  private pLoOff = 0;
  private pHiOff = 0;
  private pHash = 0;
  private pLo = 0;
  private pHi = 0;
  private pPorts = 0;
  /**
   * The IPv4 flow the last probe found, while the table has not changed since: packets come in
   * bursts per flow (80 % of the bulk benchmark's follow one of their own flow), and a burst's
   * later packets skip the hash and Map lookup. The probe fields above still describe its tuple.
   */
  private hit: Slot<V> | null = null;

  get size(): number {
    return this.count;
  }

  /** Finds the flow of packet `p` and remembers its tuple for a following insertProbed. */
  probe(p: Packet): V | undefined {
    if (p.ipVersion === 4) {
      const s = u32(p.data, p.srcOffset);
      const d = u32(p.data, p.dstOffset);
      const fwd = s < d || (s === d && p.srcPort <= p.dstPort);
      const lo = fwd ? s : d;
      const hi = fwd ? d : s;
      const ports = fwd ? p.srcPort * 65536 + p.dstPort : p.dstPort * 65536 + p.srcPort;
      const hit = this.hit;
      if (hit !== null && lo === this.pLo && hi === this.pHi && ports === this.pPorts) return hit.value;
      this.pIsV6 = false;
      this.pData = null;
      this.pLo = lo;
      this.pHi = hi;
      this.pPorts = ports;
      let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b);
      h = Math.imul(h ^ hi ^ (h >>> 13), 0xc2b2ae35);
      h = Math.imul(h ^ ports ^ (h >>> 16), 0x27d4eb2f);
      this.pHash = (h ^ (h >>> 15)) | 0;
      for (let slot: Slot<V> | null = this.maps[0].get(this.pHash) ?? null; slot; slot = slot.next) {
        const k = slot.key;
        if (k.lo === lo && k.hi === hi && k.ports === ports) {
          this.hit = slot;
          return slot.value;
        }
      }
      this.hit = null;
      return undefined;
    }
    this.hit = null;
    const d = p.data;
    const c = compare16(d, p.srcOffset, p.dstOffset);
    const fwd = c < 0 || (c === 0 && p.srcPort <= p.dstPort);
    this.pIsV6 = true;
    this.pData = d;
    this.pLoOff = fwd ? p.srcOffset : p.dstOffset;
    this.pHiOff = fwd ? p.dstOffset : p.srcOffset;
    this.pLo = 0;
    this.pHi = 0;
    this.pPorts = fwd ? p.srcPort * 65536 + p.dstPort : p.dstPort * 65536 + p.srcPort;
    let h = 0x2545f491;
    for (let i = 0; i < 16; i += 4) h = mix(h, u32(d, this.pLoOff + i));
    for (let i = 0; i < 16; i += 4) h = mix(h, u32(d, this.pHiOff + i));
    this.pHash = finish(mix(h, this.pPorts));
    for (let slot: Slot<V> | null = this.maps[1].get(this.pHash) ?? null; slot; slot = slot.next) {
      const k = slot.key;
      if (k.ports === this.pPorts && this.sameV6(k.v6!)) return slot.value;
    }
    return undefined;
  }

  private sameV6(addrs: Uint8Array): boolean {
    const d = this.pData!;
    for (let i = 0; i < 16; i++) if (addrs[i] !== d[this.pLoOff + i] || addrs[16 + i] !== d[this.pHiOff + i]) return false;
    return true;
  }

  /** The tuple of the last probe, as a key to keep. */
  probedKey(): FlowKey {
    let v6: Uint8Array | null = null;
    if (this.pIsV6) {
      v6 = new Uint8Array(32);
      const d = this.pData!;
      for (let i = 0; i < 16; i++) {
        v6[i] = d[this.pLoOff + i];
        v6[16 + i] = d[this.pHiOff + i];
      }
    }
    return { v6, hash: this.pHash, lo: this.pLo, hi: this.pHi, ports: this.pPorts };
  }

  /** Adds `value` under the tuple of the last probe (which found nothing). */
  insertProbed(value: V): FlowKey {
    const key = this.probedKey();
    this.insertKey(key, value);
    return key;
  }

  /** Adds `value` under a key taken from this or another table (which must not hold it yet). */
  insertKey(key: FlowKey, value: V): void {
    this.hit = null;
    const f = key.v6 === null ? 0 : 1;
    const map = this.maps[f];
    const head = map.get(key.hash);
    const slot: Slot<V> = { key, value, next: null };
    if (head === undefined) map.set(key.hash, slot);
    else if (head === null) {
      // A Map keeps a key's first place in its order even when its value is replaced: deleted and
      // set again, the entry goes last, as a new flow should for anyKey's oldest-first eviction.
      // Only a hash used again after its flow ended (a reused 4-tuple) gets here, rarely.
      this.emptied[f]--;
      map.delete(key.hash);
      map.set(key.hash, slot);
    } else {
      // A collision: the newer flow goes last in the chain, so the head stays the oldest.
      let tail = head;
      while (tail.next) tail = tail.next;
      tail.next = slot;
    }
    this.count++;
  }

  delete(key: FlowKey): void {
    this.hit = null;
    const f = key.v6 === null ? 0 : 1;
    const map = this.maps[f];
    let prev: Slot<V> | null = null;
    for (let slot = map.get(key.hash) ?? null; slot; prev = slot, slot = slot.next) {
      if (slot.key !== key && !sameKey(slot.key, key)) continue;
      if (prev) prev.next = slot.next;
      else if (slot.next) map.set(key.hash, slot.next);
      else {
        map.set(key.hash, null);
        const emptied = ++this.emptied[f];
        if (emptied >= MIN_REBUILD && emptied > map.size - emptied) this.rebuild(f);
      }
      this.count--;
      return;
    }
  }

  /** Replaces a map by one without its null entries. */
  private rebuild(f: number): void {
    const fresh = new Map<number, Slot<V> | null>();
    for (const [hash, slot] of this.maps[f]) if (slot !== null) fresh.set(hash, slot);
    this.maps[f] = fresh;
    this.emptied[f] = 0;
    this.cursor = null;
  }

  /** Some entry's key, the longest-held first (roughly): for evicting when a table is full. */
  anyKey(): FlowKey | null {
    if (this.count === 0) return null;
    // Two passes at most: the cursor may start at the end of what it had seen.
    for (let pass = 0; pass < 2; pass++) {
      this.cursor ??= this.heads();
      for (let r = this.cursor.next(); !r.done; r = this.cursor.next()) if (r.value !== null) return r.value.key;
      this.cursor = null;
    }
    return null;
  }

  /** Chain heads, IPv6 flows first. */
  private *heads(): Generator<Slot<V> | null> {
    yield* this.maps[1].values();
    yield* this.maps[0].values();
  }

  *values(): IterableIterator<V> {
    for (const map of [this.maps[1], this.maps[0]]) {
      for (const slot of map.values()) {
        for (let s: Slot<V> | null = slot; s; s = s.next) yield s.value;
      }
    }
  }

  clear(): void {
    this.hit = null;
    for (const map of this.maps) map.clear();
    this.emptied.fill(0);
    this.cursor = null;
    this.count = 0;
  }
}

function sameKey(a: FlowKey, b: FlowKey): boolean {
  if (a.lo !== b.lo || a.hi !== b.hi || a.ports !== b.ports) return false;
  if (a.v6 === null || b.v6 === null) return a.v6 === b.v6;
  for (let i = 0; i < 32; i++) if (a.v6[i] !== b.v6[i]) return false;
  return true;
}
