/**
 * Who a payment is for. We put it on every Checkout Session twice — as `client_reference_id` and
 * as metadata (copied onto the Subscription / PaymentIntent) — so any later event can be traced
 * back to a creator or to one contact of one bot.
 */
export type BillingReference =
  | { kind: 'creator'; creatorId: string }
  | { kind: 'contact'; botId: string; contactId: string };

/** Metadata keys we own on Stripe objects; prefixed so they never clash with a self-hoster's own. */
export const referenceMetadataKeys = {
  kind: 'coachbot_kind',
  creatorId: 'coachbot_creator_id',
  botId: 'coachbot_bot_id',
  contactId: 'coachbot_contact_id',
} as const;

// Stripe allows letters, digits, dashes and underscores in client_reference_id (≤ 200 chars);
// UUIDs fit, and the underscore separates the parts.
const idPattern = /^[A-Za-z0-9-]{1,80}$/;

function checkId(id: string, what: string): string {
  if (!idPattern.test(id)) throw new TypeError(`${what} must be letters, digits or dashes (got ${JSON.stringify(id)})`);
  return id;
}

/** The `client_reference_id` for a reference, e.g. `creator_<uuid>` or `contact_<botId>_<contactId>`. */
export function encodeClientReference(reference: BillingReference): string {
  return reference.kind === 'creator'
    ? `creator_${checkId(reference.creatorId, 'creatorId')}`
    : `contact_${checkId(reference.botId, 'botId')}_${checkId(reference.contactId, 'contactId')}`;
}

/** Parses a `client_reference_id` we wrote; null for anything else (including ids set elsewhere). */
export function decodeClientReference(value: string | null | undefined): BillingReference | null {
  if (!value) return null;
  const parts = value.split('_');
  if (parts[0] === 'creator' && parts.length === 2 && idPattern.test(parts[1]!)) return { kind: 'creator', creatorId: parts[1]! };
  if (parts[0] === 'contact' && parts.length === 3 && idPattern.test(parts[1]!) && idPattern.test(parts[2]!)) {
    return { kind: 'contact', botId: parts[1]!, contactId: parts[2]! };
  }
  return null;
}

/** The metadata entries for a reference. */
export function referenceMetadata(reference: BillingReference): Record<string, string> {
  return reference.kind === 'creator'
    ? { [referenceMetadataKeys.kind]: 'creator', [referenceMetadataKeys.creatorId]: reference.creatorId }
    : { [referenceMetadataKeys.kind]: 'contact', [referenceMetadataKeys.botId]: reference.botId, [referenceMetadataKeys.contactId]: reference.contactId };
}

/** Reads a reference from metadata we wrote; null when absent or incomplete. */
export function referenceFromMetadata(metadata: Record<string, string>): BillingReference | null {
  const kind = metadata[referenceMetadataKeys.kind];
  if (kind === 'creator') {
    const creatorId = metadata[referenceMetadataKeys.creatorId];
    return creatorId ? { kind, creatorId } : null;
  }
  if (kind === 'contact') {
    const botId = metadata[referenceMetadataKeys.botId];
    const contactId = metadata[referenceMetadataKeys.contactId];
    return botId && contactId ? { kind, botId, contactId } : null;
  }
  return null;
}

/** True when both name the same creator or the same contact of the same bot. */
export function sameReference(a: BillingReference, b: BillingReference): boolean {
  if (a.kind === 'creator' && b.kind === 'creator') return a.creatorId === b.creatorId;
  if (a.kind === 'contact' && b.kind === 'contact') return a.botId === b.botId && a.contactId === b.contactId;
  return false;
}
