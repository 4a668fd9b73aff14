// The coaching API's shapes the Coaching screen reads (src/http/schemas/programs, habits, broadcasts).

export interface Step {
  afterDays?: number;
  afterMinutes?: number;
  text?: string;
  passage?: string;
  question?: { text: string; options: string[] };
}

export interface Program {
  id: string;
  name: string;
  slug: string;
  steps: Step[];
}

export type EnrollmentStatus = 'active' | 'paused' | 'left' | 'completed';

export interface Enrollment {
  id: string;
  contactId: string;
  contact: { displayName: string; channel: string };
  status: EnrollmentStatus;
  nextStep: number;
  enrolledAt: string;
  answers?: Array<{ stepIndex: number; answer: string }>;
}

export interface Habit {
  id: string;
  name: string;
  localTime: string;
  daysOfWeek: number[];
  timesPerWeek: number | null;
}

export interface HabitSubscription {
  id: string;
  status: 'active' | 'paused' | 'stopped';
  stats?: { streakUnit: 'days' | 'weeks'; last30: { done: number; due: number } };
}

export type SegmentType = 'all' | 'program' | 'habit' | 'tag' | 'channel';
export type BroadcastStatus = 'scheduled' | 'sending' | 'done' | 'cancelled';

export interface Broadcast {
  id: string;
  text: string;
  segment: { type: SegmentType; value?: string };
  sendAt: string;
  recipientsChosenAt: string | null;
  status: BroadcastStatus;
  total: number;
  sent: number;
  failed: number;
  skipped: number;
  cancelled: number;
  pending: number;
}

export type RecipientStatus = 'scheduled' | 'sent' | 'skipped' | 'failed' | 'cancelled';

export interface Recipient {
  sendId: string;
  displayName: string;
  channel: string;
  status: RecipientStatus;
  reason: string | null;
  settledAt: string | null;
}

export const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
export const channelWords: Record<string, string> = { telegram: 'Telegram', whatsapp: 'WhatsApp', web: 'Web chat' };
