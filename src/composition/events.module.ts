import type { Config } from '../config.js';
import { BotEventBus } from '../events/bot-event.bus.js';
import { BotEventHub } from '../events/bot-event.hub.js';
import { StreamTickets } from '../events/stream-ticket.js';
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
  clock,
}: {
  config: Config;
  logger: Logger;
  infrastructure: InfrastructureModule;
  bots: BotsModule;
  /** The wall clock tickets expire by (tests move it). */
  clock?: (() => Date) | undefined;
}): EventsModule {
  const publisher = new BotEventBus(infrastructure.topics, (err, what) => logger.warn({ err }, `live events: ${what}`));
  const hub = new BotEventHub(publisher, {
    authorize: (creatorId, botId) => bots.service.get(creatorId, botId),
    maxStreamsPerCreator: config.EVENTS_MAX_STREAMS_PER_CREATOR,
    keepEvents: KEEP_EVENTS,
    keepMs: KEEP_MS,
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
