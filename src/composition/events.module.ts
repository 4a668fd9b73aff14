import type { Config } from '../config.js';
import { BotEventBus } from '../events/bot-event.bus.js';
import { BotEventHub } from '../events/bot-event.hub.js';
import { StreamTickets } from '../events/stream-ticket.js';
import { RedisStreamLeases } from '../events/stream-lease.redis.js';
import { StreamLeaseRepository } from '../db/stream-lease.repository.js';
import type { AccountsModule } from './accounts.module.js';
import type { Logger } from '../observability/logger.js';
import type { BotsModule } from './bots.module.js';
import type { InfrastructureModule } from './infrastructure.module.js';
import type { ModuleLifecycle } from './module.types.js';

/** Recent events each API process keeps per watched bot, for a reconnecting dashboard to resume. */
const KEEP_EVENTS = 500;
/** How long a bot stays watched (and its recent events kept) after its last stream closed. */
const KEEP_MS = 5 * 60_000;

/** The creators' live events: publishing from any process, streaming from API processes. */
export interface EventsModule extends ModuleLifecycle {
  /** What the data layer and services publish to. */
  publisher: BotEventBus;
  /** This process's open streams. */
  hub: BotEventHub;
  /** `?ticket=` for an EventSource, which cannot send headers. */
  tickets: StreamTickets;
}

/** Builds the bot event bus over the platform's topic bus, and the streams' hub. */
export function createEventsModule({
  config,
  logger,
  infrastructure,
  bots,
  accounts,
  clock,
}: {
  config: Config;
  logger: Logger;
  infrastructure: InfrastructureModule;
  bots: BotsModule;
  /** Streams end when the session or API key they were opened with does. */
  accounts: Pick<AccountsModule, 'credentials'>;
  /** The wall clock tickets expire by (tests move it). */
  clock?: (() => Date) | undefined;
}): EventsModule {
  const publisher = new BotEventBus(infrastructure.topics, (err, what) => logger.warn({ err }, `live events: ${what}`));
  // The cap holds across API processes: counted in Redis when there is one, else in PostgreSQL.
  const leases = infrastructure.redis
    ? new RedisStreamLeases(infrastructure.redis, config.QUEUE_PREFIX, config.EVENTS_STREAM_LEASE_MS)
    : new StreamLeaseRepository(infrastructure.database.pool, config.EVENTS_STREAM_LEASE_MS);
  const hub = new BotEventHub(publisher, {
    authorize: (creatorId, botId) => bots.service.get(creatorId, botId),
    maxStreamsPerCreator: config.EVENTS_MAX_STREAMS_PER_CREATOR,
    keepEvents: KEEP_EVENTS,
    keepMs: KEEP_MS,
    // Renewed three times per lease: a slow pass or two does not let a live stream's lease lapse.
    leases: { store: leases, renewEveryMs: Math.floor(config.EVENTS_STREAM_LEASE_MS / 3) },
    credentials: { isLive: (creatorId, credential) => accounts.credentials.isLive(creatorId, credential), everyMs: config.EVENTS_CREDENTIAL_CHECK_MS },
    onError: (what, err) => logger.warn({ err }, `live events: ${what}`),
  });
  return {
    publisher,
    hub,
    tickets: new StreamTickets(config.JWT_SECRET, config.EVENTS_TICKET_TTL_SECONDS * 1000, clock ? () => clock().getTime() : Date.now),
    async stop() {
      await hub.close();
      // What was published before shutdown still goes out before the topic bus closes.
      await publisher.flushed();
    },
  };
}
