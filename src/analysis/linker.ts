import type { IssuedLookup } from './types.js';

/** Entries remembered per kind; the oldest are forgotten first, so memory stays bounded. */
const MAX_ENTRIES = 200_000;

/**
 * Session IDs and tickets servers issued, in capture order, so a later ClientHello can be traced to
 * the connection that issued what it offers. The first issuer wins: a resumed ServerHello echoes
 * the ID again and must not become its origin.
 */
export class IssuedRegistry implements IssuedLookup {
  private readonly ids = new Map<string, number>();
  private readonly tickets = new Map<string, number>();

  issueSessionId(id: string, conn: number): void {
    remember(this.ids, id, conn);
  }

  issueTicket(hash: string, conn: number): void {
    remember(this.tickets, hash, conn);
  }

  sessionIdOrigin(id: string): number | null {
    return this.ids.get(id) ?? null;
  }

  ticketOrigin(hash: string): number | null {
    return this.tickets.get(hash) ?? null;
  }

  /** A view that never answers with the asking connection itself. */
  excluding(self: number): IssuedLookup {
    return {
      sessionIdOrigin: (id) => {
        const o = this.ids.get(id);
        return o === undefined || o === self ? null : o;
      },
      ticketOrigin: (h) => {
        const o = this.tickets.get(h);
        return o === undefined || o === self ? null : o;
      },
    };
  }
}

function remember(map: Map<string, number>, key: string, conn: number): void {
  if (key === '' || map.has(key)) return;
  if (map.size >= MAX_ENTRIES) {
    const oldest = map.keys().next().value as string;
    map.delete(oldest);
  }
  map.set(key, conn);
}
