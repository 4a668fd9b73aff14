import { createBroadcastQueue, createProactiveProcessor, createProactiveQueue } from '../../workers/proactive.worker.js';
import { startPeriodic } from '../../workers/periodic.js';
import { BroadcastService } from '../coaching/broadcast.service.js';
import { CoachingAdminService } from '../coaching/coaching-admin.service.js';
import { CoachingTurns } from '../coaching/coaching-turns.service.js';
import { ContactTagService } from '../coaching/contact-tag.service.js';
import { creatorMessageContent } from '../coaching/creator-messages.js';
import type { Clock, ProactiveKind } from '../coaching/proactive.ports.js';
import { ProactiveService, type ProactiveContent } from '../coaching/proactive.service.js';
import { HabitService } from '../coaching/habit.service.js';
import { ProgramService } from '../coaching/program.service.js';
import type { Config } from '../config.js';
import { BroadcastRepository } from '../db/broadcast.repository.js';
import { ContactRepository } from '../db/contact.repository.js';
import { ContactTagRepository } from '../db/contact-tag.repository.js';
import { HabitRepository } from '../db/habit.repository.js';
import { ProactiveRepository } from '../db/proactive.repository.js';
import { ProgramRepository } from '../db/program.repository.js';
import { ReminderRepository } from '../db/reminder.repository.js';
import type { Logger } from '../observability/logger.js';
import type { BotsModule } from './bots.module.js';
import type { ChannelsModule } from './channels.module.js';
import type { EventsModule } from './events.module.js';
import type { InfrastructureModule } from './infrastructure.module.js';
import type { ModuleLifecycle } from './module.types.js';

/** Proactive messages (reminders, program steps), the coaching commands, and their worker and reconciler. */
export interface CoachingModule extends ModuleLifecycle {
  proactive: ProactiveService;
  store: ProactiveRepository;
  /** Programs, their enrollments and answers. */
  programs: ProgramService;
  /** Habits, subscriptions, check-ins, streaks. */
  habits: HabitService;
  /** One message to a segment of the bot's contacts, now or later. */
  broadcasts: BroadcastService;
  /** Contacts' tags (broadcast segments, deep-link sources) and the contact list. */
  tags: ContactTagService;
  /** Contacts' time zones and the proactive messages, for creators. */
  admin: CoachingAdminService;
  /** Consulted by the turn pipeline before the coach answers. */
  turns: CoachingTurns;
}

// Proactive jobs running at once per worker process: each holds a database connection while it sends.
const PROACTIVE_CONCURRENCY = 4;

/** Reminders go out when the contact asked, quiet hours or not: they chose the time. */
const reminderContent: ProactiveContent = {
  respectsQuietHours: false,
  // The contact asked for it: it waits for the person to hand the conversation back, then goes out late rather than never.
  duringTakeover: 'hold',
  async message(send) {
    return send.message ? { message: send.message } : { cancel: 'The reminder has no message' };
  },
};

/** Builds the coaching features over the channels' senders; `clock` is the wall clock (tests move it). */
export function createCoachingModule({
  config,
  logger,
  infrastructure,
  bots,
  channels,
  events,
  clock,
}: {
  config: Config;
  logger: Logger;
  infrastructure: InfrastructureModule;
  bots: Pick<BotsModule, 'service'>;
  channels: Pick<ChannelsModule, 'senders'>;
  /** Proactive messages' ledger changes are published to the creators' live events. */
  events?: Pick<EventsModule, 'publisher'> | undefined;
  clock?: Clock | undefined;
}): CoachingModule {
  const { database, queues } = infrastructure;
  const now = clock ?? (() => new Date());
  const store = new ProactiveRepository(database.pool, { embedded: database.kind === 'pglite', ...(events ? { events: events.publisher } : {}) });
  // Filled in below: program steps' content comes from the program service, which schedules through this one.
  const contents: Partial<Record<ProactiveKind, ProactiveContent>> = { reminder: reminderContent, creator_message: creatorMessageContent };
  const proactive = new ProactiveService({
    store,
    queue: createProactiveQueue(queues),
    contacts: store,
    settings: store,
    senders: channels.senders,
    blocked: new ContactRepository(database.pool),
    clock: now,
    contents,
    onDegraded: (what, err) => logger.warn({ err }, what),
  });
  const programs = new ProgramService({ store: new ProgramRepository(database.pool), bots: bots.service, contacts: store, proactive, clock: now });
  contents.program_step = programs.content;
  const habits = new HabitService({ store: new HabitRepository(database.pool), bots: bots.service, contacts: store, proactive, clock: now });
  contents.habit_ask = habits.content;
  const broadcasts = new BroadcastService({
    bots: bots.service,
    store: new BroadcastRepository(database.pool),
    queue: createBroadcastQueue(queues),
    clock: now,
    onDegraded: (what, err) => logger.warn({ err }, what),
  });
  contents.broadcast = broadcasts.content;
  const tags = new ContactTagService({ bots: bots.service, store: new ContactTagRepository(database.pool) });
  const turns = new CoachingTurns({
    contacts: store,
    proactive,
    reminders: new ReminderRepository(database.pool),
    clock: now,
    programs,
    habits,
    tags,
  });
  let reconciler: { stop(): Promise<void> } | undefined;
  return {
    proactive,
    store,
    programs,
    habits,
    broadcasts,
    tags,
    admin: new CoachingAdminService({ bots: bots.service, contacts: store, scheduled: store, zoneChanged: (botId, contactId) => habits.zoneChanged(botId, contactId) }),
    turns,
    startWorkers() {
      queues.work('proactive', createProactiveProcessor({ service: proactive, broadcasts, logger }), {
        concurrency: PROACTIVE_CONCURRENCY,
        lockDurationMs: config.PROACTIVE_LOCK_DURATION_MS,
        stalledIntervalMs: config.PROACTIVE_STALLED_INTERVAL_MS,
      });
      // Postgres holds the schedule: a due send without a live job (Redis lost it) is queued again.
      reconciler = startPeriodic({
        name: 'proactive reconciler',
        intervalMs: config.RECONCILE_INTERVAL_MS,
        logger,
        pass: async () => {
          const started = await broadcasts.reconcile(config.RECONCILE_GRACE_MS);
          if (started > 0) logger.info({ started }, 'proactive reconciler: started due broadcasts whose start job was lost');
          const queued = await proactive.reconcile(config.RECONCILE_GRACE_MS);
          if (queued > 0) logger.info({ queued }, 'proactive reconciler: queued due messages that had no live job');
        },
      });
    },
    async drain() {
      await broadcasts.drain();
      await reconciler?.stop();
    },
  };
}
