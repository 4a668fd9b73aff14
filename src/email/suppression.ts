/**
 * Who must not get which email. Hard bounces stop everything (the address does not exist and
 * mailing it hurts deliverability for every creator on this installation); spam reports and
 * unsubscribes stop everything except transactional mail the person needs to use the product
 * (verification, password reset, billing notices); group unsubscribes stop their categories.
 */
import { emailCategories, type EmailCategory, type EmailEvent } from './ports.js';

/** Mail someone gets because of something they did or must act on; never marketing or digests. */
export const transactionalCategories: ReadonlySet<EmailCategory> = new Set<EmailCategory>([
  'verify-email',
  'password-reset',
  'document-ingestion-failed',
  'payment-failed',
  'subscription-ended',
  // A user of theirs is waiting for a person.
  'human-requested',
]);

/** True for categories sent regardless of spam reports and unsubscribes. */
export function isTransactional(category: EmailCategory): boolean {
  return transactionalCategories.has(category);
}

export type SuppressionReason = 'bounce' | 'invalid' | 'spamreport' | 'unsubscribe' | 'group_unsubscribe';

export interface Suppression {
  /** Normalised (trimmed, lowercase). */
  email: string;
  reason: SuppressionReason;
  /** For group unsubscribes: the categories left. Otherwise null (scope follows from the reason). */
  categories: EmailCategory[] | null;
  /** Unix seconds. */
  since: number;
}

export type SuppressionChange =
  | { action: 'add'; suppression: Suppression }
  /** A group resubscribe lifts group unsubscribes for these categories. */
  | { action: 'remove'; email: string; reason: 'group_unsubscribe'; categories: EmailCategory[] };

/** The form addresses are compared in. */
export function normaliseEmail(address: string): string {
  return address.trim().toLowerCase();
}

function knownCategories(categories: string[]): EmailCategory[] {
  return categories.filter((c): c is EmailCategory => (emailCategories as readonly string[]).includes(c));
}

// SendGrid reports mail to an address already on one of its suppression lists as `dropped` with
// one of these reasons; mirroring them keeps our list in step with the provider's.
function reasonFromDrop(reason: string | null): SuppressionReason | null {
  const r = (reason ?? '').toLowerCase();
  if (r.includes('bounced address')) return 'bounce';
  if (r.includes('spam reporting address')) return 'spamreport';
  if (r.includes('unsubscribed address')) return 'unsubscribe';
  if (r === 'invalid' || r.includes('invalid email')) return 'invalid';
  return null;
}

/** What an email event means for the suppression list; null for events that change nothing. */
export function suppressionFromEvent(event: EmailEvent): SuppressionChange | null {
  const email = normaliseEmail(event.email);
  if (!email) return null;
  const add = (reason: SuppressionReason, categories: EmailCategory[] | null = null): SuppressionChange => ({
    action: 'add',
    suppression: { email, reason, categories, since: event.timestamp },
  });
  switch (event.type) {
    case 'bounce':
      return add('bounce');
    case 'spamreport':
      return add('spamreport');
    case 'unsubscribe':
      return add('unsubscribe');
    case 'dropped': {
      const reason = reasonFromDrop(event.reason);
      return reason ? add(reason) : null;
    }
    case 'group_unsubscribe': {
      const categories = knownCategories(event.categories).filter((c) => !isTransactional(c));
      // Without a category we cannot tell which group: stop every non-transactional category.
      return add('group_unsubscribe', categories.length ? categories : null);
    }
    case 'group_resubscribe': {
      const categories = knownCategories(event.categories);
      return { action: 'remove', email, reason: 'group_unsubscribe', categories };
    }
    default:
      // blocked (temporary, e.g. greylisting), deferred, delivered, opens, clicks: nothing to stop.
      return null;
  }
}

/** Applies a change to a list, keeping one entry per (email, reason) and the earliest `since`. */
export function applySuppressionChange(list: readonly Suppression[], change: SuppressionChange): Suppression[] {
  if (change.action === 'remove') {
    return list.flatMap((s) => {
      if (s.email !== change.email || s.reason !== change.reason) return [s];
      if (s.categories === null || change.categories.length === 0) return [];
      const left = s.categories.filter((c) => !change.categories.includes(c));
      return left.length ? [{ ...s, categories: left }] : [];
    });
  }
  const incoming = change.suppression;
  const existing = list.find((s) => s.email === incoming.email && s.reason === incoming.reason);
  if (!existing) return [...list, incoming];
  const categories =
    existing.categories === null || incoming.categories === null ? null : [...new Set([...existing.categories, ...incoming.categories])];
  const merged: Suppression = { ...existing, categories, since: Math.min(existing.since, incoming.since) };
  return list.map((s) => (s === existing ? merged : s));
}

export type MailPermission = { allowed: true } | { allowed: false; reason: SuppressionReason };

/** Whether `address` may receive mail of `category`, given the suppressions recorded for it. */
export function mayReceive(address: string, category: EmailCategory, suppressions: readonly Suppression[]): MailPermission {
  const email = normaliseEmail(address);
  for (const s of suppressions) {
    if (s.email !== email) continue;
    if (s.reason === 'bounce' || s.reason === 'invalid') return { allowed: false, reason: s.reason };
    if (isTransactional(category)) continue;
    if (s.reason === 'group_unsubscribe' && s.categories !== null && !s.categories.includes(category)) continue;
    return { allowed: false, reason: s.reason };
  }
  return { allowed: true };
}
