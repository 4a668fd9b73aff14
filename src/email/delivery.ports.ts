/**
 * Persistence and queue ports of the email services (implemented in src/db and workers/). Kept
 * apart from ports.ts, which the pure suppression rules import.
 */
import type { EmailAddress, EmailCategory, EmailEvent, OutboxEntry } from './ports.js';
import type { Suppression, SuppressionChange, SuppressionReason } from './suppression.js';

export type EmailStatus = 'queued' | 'sending' | 'sent' | 'suppressed' | 'failed';

/** A rendered email waiting to be sent. */
export interface NewEmailMessage {
  dedupeKey: string;
  /** The creator the email is about (and who may read it in the development outbox). */
  creatorId: string | null;
  category: EmailCategory;
  to: EmailAddress;
  subject: string;
  text: string;
  html: string;
  unsubscribeUrl?: string;
}

/** A message claimed for one delivery attempt. */
export interface ClaimedEmailMessage extends NewEmailMessage {
  id: string;
  /** Attempts including this one. */
  attempts: number;
}

export type EmailSettlement =
  | { status: 'sent'; providerMessageId: string | null }
  | { status: 'suppressed'; reason: SuppressionReason }
  | { status: 'failed'; error: string };

/** The send queue's records (`email_messages`): one row per dedupe key. */
export interface EmailMessageStore {
  /** Inserts the message unless its dedupe key exists; returns the row either way. */
  insert(message: NewEmailMessage): Promise<{ id: string; status: EmailStatus; inserted: boolean }>;
  /** Starts an attempt (queued or interrupted → sending); null when the message is settled or gone. */
  claim(id: string): Promise<ClaimedEmailMessage | null>;
  /** Records the final outcome and drops the bodies. */
  settle(id: string, outcome: EmailSettlement): Promise<void>;
  /** Puts the message back after a failed attempt that will be retried. */
  release(id: string, error: string): Promise<void>;
  /** Messages still unsettled that were created before `before`, oldest first. */
  unsettled(before: Date, limit: number): Promise<Array<{ id: string; dedupeKey: string }>>;
}

/** Hands a message to the email worker; the job id comes from the dedupe key, so repeats collapse. */
export interface EmailJobQueue {
  enqueue(messageId: string, dedupeKey: string): Promise<void>;
  /** Enqueues unless a live job exists; a finished one (its message still unsettled) is replaced. Whether it added. */
  ensure(messageId: string, dedupeKey: string): Promise<boolean>;
}

/** The suppression list (`email_suppressions`). */
export interface SuppressionStore {
  /** Every suppression recorded for this (normalised) address. */
  forAddress(email: string): Promise<Suppression[]>;
  /** Applies one change atomically for its address. */
  apply(change: SuppressionChange): Promise<void>;
}

/** Provider feedback (`email_events`). */
export interface EmailEventStore {
  /** Stores the event; false when an event with its provider id was stored before. */
  record(event: EmailEvent): Promise<boolean>;
}

/** A creator as email needs them. */
export interface EmailRecipient {
  id: string;
  email: string;
  name: string;
}

/** Who the creator behind an id is. */
export interface RecipientDirectory {
  creator(creatorId: string): Promise<EmailRecipient | null>;
}

/** An entry of the development outbox as its creator reads it back. */
export interface StoredOutboxEntry extends OutboxEntry {
  id: string;
}

/** Reads the development outbox (GET /v1/dev/outbox). */
export interface OutboxReader {
  /** The creator's own entries, newest first. */
  listForCreator(creatorId: string, limit: number): Promise<StoredOutboxEntry[]>;
}
