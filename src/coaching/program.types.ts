import type { ChannelName } from '../conversation/channel.ports.js';

/** Programs as creators write them and contacts go through them. */

export interface ProgramQuestion {
  text: string;
  /** Quick replies (Telegram buttons; WhatsApp buttons up to three, a list beyond). */
  options: string[];
}

/** One step; its wait counts from the previous step (the first step's from enrollment). */
export interface ProgramStep {
  afterDays?: number | undefined;
  afterMinutes?: number | undefined;
  text?: string | undefined;
  /** A passage of the creator's material, shown as a quote. */
  passage?: string | undefined;
  question?: ProgramQuestion | undefined;
}

export interface Program {
  id: string;
  botId: string;
  name: string;
  slug: string;
  steps: ProgramStep[];
  createdAt: Date;
  updatedAt: Date;
}

export type EnrollmentStatus = 'active' | 'paused' | 'left' | 'completed';

export interface Enrollment {
  id: string;
  programId: string;
  botId: string;
  contactId: string;
  conversationId: string;
  status: EnrollmentStatus;
  nextStep: number;
  enrolledAt: Date;
  updatedAt: Date;
}

/** An enrollment as the creator lists it, with who the contact is. */
export interface EnrolledContact extends Enrollment {
  contact: { displayName: string; channel: ChannelName };
}

export interface ProgramAnswer {
  stepIndex: number;
  optionIndex: number;
  answer: string;
  answeredAt: Date;
}

export interface ProgramInput {
  name: string;
  slug: string;
  steps: ProgramStep[];
}

/** Fields to change; absent or undefined ones stay. */
export type ProgramPatch = { [K in keyof ProgramInput]?: ProgramInput[K] | undefined };

export interface ProgramStore {
  insert(botId: string, input: ProgramInput): Promise<Program | 'slug_taken'>;
  list(botId: string): Promise<Program[]>;
  get(botId: string, programId: string): Promise<Program | null>;
  bySlug(botId: string, slug: string): Promise<Program | null>;
  update(botId: string, programId: string, patch: ProgramPatch): Promise<Program | null | 'slug_taken'>;
  delete(botId: string, programId: string): Promise<boolean>;
  /**
   * The contact's enrollment in the program: created at step 0, or started afresh (a new id) when
   * an earlier one was left or completed; an active or paused one is returned as it is (`created` false).
   */
  enroll(input: { programId: string; botId: string; contactId: string; conversationId: string }): Promise<{ enrollment: Enrollment; created: boolean }>;
  enrollment(botId: string, enrollmentId: string): Promise<Enrollment | null>;
  enrollments(botId: string, programId: string): Promise<Enrollment[]>;
  /** One page of the program's enrollments, newest first; `before` is the last id of the previous page. */
  enrollmentPage(botId: string, programId: string, page: { limit: number; before?: string | undefined }): Promise<EnrolledContact[]>;
  /** The contact's most recently changed enrollment that is active (or paused, for `resume`). */
  currentEnrollment(contactId: string, statuses: EnrollmentStatus[]): Promise<Enrollment | null>;
  setStatus(enrollmentId: string, status: EnrollmentStatus): Promise<void>;
  /** Moves the enrollment from `from` to `from + 1`; false when it had moved already. */
  advance(enrollmentId: string, from: number): Promise<boolean>;
  saveAnswer(enrollmentId: string, answer: Omit<ProgramAnswer, 'answeredAt'>): Promise<void>;
  answers(enrollmentId: string): Promise<ProgramAnswer[]>;
}
