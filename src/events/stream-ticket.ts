import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a valid ticket stands for. */
export interface StreamTicketClaims {
  creatorId: string;
  botId: string;
  /** The credential the ticket was asked for with (opaque here): the ticket and its streams end with it. */
  credential: string;
}

/**
 * Short-lived signed tickets that open one bot's event stream. A browser's EventSource cannot send
 * an Authorization header, and a long-lived key or access token must not travel in a URL (logs,
 * history, Referer): the dashboard trades its access token for a ticket and puts that in `?ticket=`.
 * Signed with a key of their own (derived from JWT_SECRET), so a ticket is never an access token.
 */
export class StreamTickets {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = createHmac('sha256', secret).update('bot-event-stream-ticket').digest();
  }

  /** A ticket for the creator's bot, good for `ttlMs`. */
  issue(claims: StreamTicketClaims): { ticket: string; expiresAt: Date } {
    const expiresAt = this.now() + this.ttlMs;
    const body = Buffer.from(JSON.stringify({ c: claims.creatorId, b: claims.botId, k: claims.credential, e: expiresAt })).toString('base64url');
    return { ticket: `${body}.${this.sign(body)}`, expiresAt: new Date(expiresAt) };
  }

  /** The creator and credential a ticket stands for when it is genuine, unexpired and for `botId`; null otherwise. */
  verify(ticket: string, botId: string): { creatorId: string; credential: string } | null {
    const [body, signature, extra] = ticket.split('.');
    if (!body || !signature || extra !== undefined) return null;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let claims: { c?: unknown; b?: unknown; k?: unknown; e?: unknown };
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return null;
    }
    if (typeof claims.c !== 'string' || claims.b !== botId || typeof claims.k !== 'string' || typeof claims.e !== 'number' || claims.e <= this.now()) return null;
    return { creatorId: claims.c, credential: claims.k };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
