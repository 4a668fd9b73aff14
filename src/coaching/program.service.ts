import type { OutboundMessage } from '../conversation/channel.ports.js';
import type { ClaimedTurn } from '../conversation/turn.ports.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors/app.errors.js';
import type { ProgramTurns } from './coaching-turns.service.js';
import { addLocalDays, describeLocalTime, instantAt, localDateTime } from './local-time.js';
import type { Clock, CoachingContact, CoachingContacts, ProactiveSend } from './proactive.ports.js';
import type { ProactiveContent, ProactiveService, SettledOutcome } from './proactive.service.js';
import type { EnrolledContact, Enrollment, EnrollmentStatus, Program, ProgramAnswer, ProgramInput, ProgramPatch, ProgramStep, ProgramStore } from './program.types.js';

export interface ProgramServiceDeps {
  store: ProgramStore;
  /** Resolves a creator's bot; NOT_FOUND for another creator's. */
  bots: { get(creatorId: string, botId: string): Promise<{ id: string }> };
  contacts: Pick<CoachingContacts, 'findContact' | 'latestConversation'>;
  proactive: Pick<ProactiveService, 'schedule' | 'cancel' | 'zoneOf'>;
  clock: Clock;
}

/** The effect key of an enrollment's step, and the prefix of all its steps. */
export const stepKey = (enrollmentId: string, step: number) => `program:${enrollmentId}:${step}`;
const enrollmentPrefix = (enrollmentId: string) => `program:${enrollmentId}:`;
const STEP_KEY = /^program:([0-9a-f-]{36}):(\d+)$/;

/** Why a step of an enrollment that is no longer active is not sent. */
function stoppedReason(status: Exclude<EnrollmentStatus, 'active'>): string {
  switch (status) {
    case 'paused':
      return 'The enrollment was paused';
    case 'left':
      return 'The contact left the program';
    case 'completed':
      return 'The program is complete';
  }
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ANSWER_DATA = /^q:([0-9a-f-]{36}):(\d+):(\d+)$/;

/** A step as the contact receives it: its text, the passage quoted, the question with one button per option. */
export function stepMessage(step: ProgramStep, enrollmentId: string, index: number): OutboundMessage {
  const parts = [step.text?.trim(), step.passage?.trim() ? `“${step.passage.trim()}”` : undefined, step.question?.text.trim()].filter((p): p is string => !!p);
  const buttons = step.question?.options.map((title, i) => ({ id: `q:${enrollmentId}:${index}:${i}`, title }));
  return { text: parts.join('\n\n'), ...(buttons?.length ? { buttons } : {}) };
}

/**
 * Programs: creators' step sequences (CRUD, scoped to their bots), enrollments that advance on
 * their own clock (each step's wait counts from the previous step, whole days kept at the same
 * local time across DST), pause/resume/leave, and answers to step questions. Steps are read when
 * they are sent, so editing a program changes every step not yet sent.
 */
export class ProgramService implements ProgramTurns {
  constructor(private readonly deps: ProgramServiceDeps) {}

  // ---- creators ----

  async create(creatorId: string, botId: string, input: ProgramInput): Promise<Program> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const created = await this.deps.store.insert(bot.id, input);
    if (created === 'slug_taken') throw slugTaken(input.slug);
    return created;
  }

  async list(creatorId: string, botId: string): Promise<Program[]> {
    const bot = await this.deps.bots.get(creatorId, botId);
    return this.deps.store.list(bot.id);
  }

  async get(creatorId: string, botId: string, programId: string): Promise<Program> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const program = await this.deps.store.get(bot.id, programId);
    if (!program) throw new NotFoundError('Program');
    return program;
  }

  async update(creatorId: string, botId: string, programId: string, patch: ProgramPatch): Promise<Program> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const updated = await this.deps.store.update(bot.id, programId, patch);
    if (updated === 'slug_taken') throw slugTaken(patch.slug ?? '');
    if (!updated) throw new NotFoundError('Program');
    return updated;
  }

  async delete(creatorId: string, botId: string, programId: string): Promise<void> {
    const bot = await this.deps.bots.get(creatorId, botId);
    const enrollments = await this.deps.store.enrollments(bot.id, programId);
    if (!(await this.deps.store.delete(bot.id, programId))) throw new NotFoundError('Program');
    for (const e of enrollments) await this.deps.proactive.cancel(bot.id, enrollmentPrefix(e.id), 'The program was deleted');
  }

  /** Enrolls a contact of the bot (the creator's doing); NOT_FOUND for an unknown program or contact. */
  async enrollContact(creatorId: string, botId: string, programId: string, contactId: string): Promise<{ enrollment: Enrollment; created: boolean }> {
    const program = await this.get(creatorId, botId, programId);
    const contact = await this.deps.contacts.findContact(program.botId, contactId);
    const conversationId = contact && (await this.deps.contacts.latestConversation(program.botId, contact.id));
    if (!contact || !conversationId) throw new NotFoundError('Contact');
    return this.enroll(program, contact, conversationId);
  }

  /** One page of the program's enrollments, newest first, with each contact's name and answers. */
  async enrollments(
    creatorId: string,
    botId: string,
    programId: string,
    page: { limit: number; before?: string | undefined },
  ): Promise<Array<EnrolledContact & { answers: ProgramAnswer[] }>> {
    const program = await this.get(creatorId, botId, programId);
    if (page.before !== undefined && !UUID.test(page.before)) throw new ValidationError('before must be an enrollment id', { before: page.before });
    const enrollments = await this.deps.store.enrollmentPage(program.botId, program.id, page);
    return Promise.all(enrollments.map(async (e) => ({ ...e, answers: await this.deps.store.answers(e.id) })));
  }

  /** Pauses, resumes or ends an enrollment (the creator's doing). */
  async changeEnrollment(creatorId: string, botId: string, programId: string, enrollmentId: string, action: 'pause' | 'resume' | 'leave'): Promise<Enrollment> {
    const program = await this.get(creatorId, botId, programId);
    const enrollment = await this.deps.store.enrollment(program.botId, enrollmentId);
    if (!enrollment || enrollment.programId !== program.id) throw new NotFoundError('Enrollment');
    if (action === 'pause' && enrollment.status !== 'active') throw new ConflictError('ENROLLMENT_NOT_ACTIVE', 'Only an active enrollment can be paused');
    if (action === 'resume' && enrollment.status !== 'paused') throw new ConflictError('ENROLLMENT_NOT_PAUSED', 'Only a paused enrollment can be resumed');
    if (action === 'leave' && (enrollment.status === 'left' || enrollment.status === 'completed')) {
      throw new ConflictError('ENROLLMENT_ENDED', 'The enrollment has ended already');
    }
    await this.apply(enrollment, action);
    return (await this.deps.store.enrollment(program.botId, enrollmentId))!;
  }

  // ---- enrollments ----

  private async enroll(program: Program, contact: CoachingContact, conversationId: string): Promise<{ enrollment: Enrollment; created: boolean }> {
    const result = await this.deps.store.enroll({ programId: program.id, botId: program.botId, contactId: contact.id, conversationId });
    // Also when it existed: a retried turn or request makes sure its first step is scheduled.
    if (result.enrollment.status === 'active') await this.scheduleNext(result.enrollment, this.deps.clock());
    return result;
  }

  private async apply(enrollment: Enrollment, action: 'pause' | 'resume' | 'leave'): Promise<void> {
    if (action === 'resume') {
      await this.deps.store.setStatus(enrollment.id, 'active');
      await this.scheduleNext({ ...enrollment, status: 'active' }, this.deps.clock());
      return;
    }
    await this.deps.store.setStatus(enrollment.id, action === 'pause' ? 'paused' : 'left');
    await this.deps.proactive.cancel(enrollment.botId, enrollmentPrefix(enrollment.id), stoppedReason(action === 'pause' ? 'paused' : 'left'));
  }

  /** Schedules the enrollment's next step, counted from `base`; completes it after the last step. Idempotent. */
  private async scheduleNext(enrollment: Enrollment, base: Date): Promise<ProactiveSend | null> {
    if (enrollment.status !== 'active') return null;
    const program = await this.deps.store.get(enrollment.botId, enrollment.programId);
    const step = program?.steps[enrollment.nextStep];
    if (!program || !step) {
      await this.deps.store.setStatus(enrollment.id, 'completed');
      return null;
    }
    const contact = await this.deps.contacts.findContact(enrollment.botId, enrollment.contactId);
    if (!contact) return null;
    const zone = await this.deps.proactive.zoneOf(contact);
    return this.deps.proactive.schedule({
      botId: enrollment.botId,
      contactId: enrollment.contactId,
      conversationId: enrollment.conversationId,
      effectKey: stepKey(enrollment.id, enrollment.nextStep),
      kind: 'program_step',
      dueAt: stepDueAt(step, base, zone),
    });
  }

  /** How program steps are delivered by the proactive core. */
  readonly content: ProactiveContent = {
    respectsQuietHours: true,
    // Steps build on each other and the next is scheduled once this one settles: held, the program
    // carries on after the release where it stood.
    duringTakeover: 'hold',
    message: async (send) => {
      const key = STEP_KEY.exec(send.effectKey);
      const enrollment = key ? await this.deps.store.enrollment(send.botId, key[1]!) : null;
      if (!key || !enrollment) return { cancel: 'The enrollment no longer exists' };
      const index = Number(key[2]);
      // The same reason whichever comes first: the pause or leave cancelling it, or its own job.
      if (enrollment.status !== 'active') return { cancel: stoppedReason(enrollment.status) };
      if (enrollment.nextStep !== index) return { cancel: 'The enrollment has moved past this step' };
      const program = await this.deps.store.get(send.botId, enrollment.programId);
      const step = program?.steps[index];
      if (!step) {
        await this.deps.store.setStatus(enrollment.id, 'completed');
        return { cancel: 'The program has no such step any more' };
      }
      return { message: stepMessage(step, enrollment.id, index) };
    },
    settled: async (send, outcome) => this.stepSettled(send, outcome),
  };

  private async stepSettled(send: ProactiveSend, outcome: SettledOutcome): Promise<void> {
    const key = STEP_KEY.exec(send.effectKey);
    if (!key || outcome.status === 'cancelled') return;
    const enrollment = await this.deps.store.enrollment(send.botId, key[1]!);
    if (!enrollment || enrollment.status !== 'active') return;
    // A contact who cannot be reached (opted out, blocked, forgotten) or a send that failed pauses
    // the program rather than running through it unseen; /resume picks it up again.
    if (outcome.status === 'failed' || (outcome.status === 'skipped' && outcome.contactUnreachable)) {
      await this.deps.store.setStatus(enrollment.id, 'paused');
      return;
    }
    const index = Number(key[2]);
    await this.deps.store.advance(enrollment.id, index);
    const next = await this.deps.store.enrollment(send.botId, enrollment.id);
    // Counted from when this step was due, so late deliveries do not push the whole program back.
    if (next && next.nextStep === index + 1) await this.scheduleNext(next, send.dueAt);
  }

  // ---- chat ----

  async enrollBySlug(turn: ClaimedTurn, contact: CoachingContact, slug: string): Promise<OutboundMessage | null> {
    const program = await this.deps.store.bySlug(turn.botId, slug.trim());
    if (!program) return null;
    const { enrollment, created } = await this.enroll(program, contact, turn.conversationId);
    if (!created && enrollment.status !== 'active') {
      return { text: `You're in “${program.name}” already, paused. Send /resume to continue.` };
    }
    const first = await this.deps.store.enrollment(turn.botId, enrollment.id);
    const zone = await this.deps.proactive.zoneOf(contact);
    const send = first ? await this.scheduleNext(first, this.deps.clock()) : null;
    const intro = created ? `You've joined “${program.name}”.` : `You're in “${program.name}” already.`;
    if (!send) return { text: intro };
    const now = this.deps.clock();
    const soon = send.dueAt.getTime() - now.getTime() < 60_000;
    return { text: soon ? `${intro} Your first message is on its way.` : `${intro} Your next message arrives ${describeLocalTime(send.dueAt, zone, now)} (${zone}).` };
  }

  async control(turn: ClaimedTurn, contact: CoachingContact, action: 'pause' | 'resume' | 'leave'): Promise<OutboundMessage> {
    const statuses = action === 'resume' ? (['paused'] as const) : action === 'pause' ? (['active'] as const) : (['active', 'paused'] as const);
    const enrollment = await this.deps.store.currentEnrollment(contact.id, [...statuses]);
    if (!enrollment) {
      const what = action === 'resume' ? 'paused' : action === 'pause' ? 'running' : '';
      return { text: `You have no ${what ? `${what} ` : ''}program to ${action}.` };
    }
    const program = await this.deps.store.get(enrollment.botId, enrollment.programId);
    await this.apply(enrollment, action);
    const name = program ? `“${program.name}”` : 'the program';
    if (action === 'pause') return { text: `Paused ${name}. Send /resume when you want to continue.` };
    if (action === 'resume') return { text: `Welcome back — ${name} continues.` };
    return { text: `You've left ${name}. You won't get its messages any more.` };
  }

  async answer(turn: ClaimedTurn, contact: CoachingContact, data: string): Promise<OutboundMessage | null> {
    const match = ANSWER_DATA.exec(data);
    if (!match) return null;
    const enrollment = await this.deps.store.enrollment(turn.botId, match[1]!);
    if (!enrollment || enrollment.contactId !== contact.id) return { text: 'That question is no longer open.' };
    const stepIndex = Number(match[2]);
    const optionIndex = Number(match[3]);
    const program = await this.deps.store.get(turn.botId, enrollment.programId);
    const answer = program?.steps[stepIndex]?.question?.options[optionIndex];
    if (answer === undefined) return { text: 'That question has changed since — thanks all the same.' };
    await this.deps.store.saveAnswer(enrollment.id, { stepIndex, optionIndex, answer });
    return { text: `Thanks — I noted “${answer}”.` };
  }
}

function slugTaken(slug: string): ConflictError {
  return new ConflictError('PROGRAM_SLUG_TAKEN', `Another program of this bot is called "${slug}"`);
}

/** When a step is due after `base`: whole days at the same local time (DST kept), then minutes. */
export function stepDueAt(step: ProgramStep, base: Date, zone: string): Date {
  let at = base;
  if (step.afterDays) {
    const local = localDateTime(base, zone);
    at = new Date(instantAt(addLocalDays(local, step.afterDays), zone).getTime() + base.getUTCMilliseconds());
  }
  if (step.afterMinutes) at = new Date(at.getTime() + step.afterMinutes * 60_000);
  return at;
}
