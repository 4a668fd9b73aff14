import { AnalyticsService } from '../coaching/analytics.service.js';
import { AnalyticsRepository } from '../db/analytics.repository.js';
import type { BotsModule } from './bots.module.js';
import type { InfrastructureModule } from './infrastructure.module.js';
import type { ModuleLifecycle } from './module.types.js';

/** Creator analytics over a bot's messages, turns and outbound ledger. */
export interface AnalyticsModule extends ModuleLifecycle {
  service: AnalyticsService;
}

/** Builds the analytics service on the bot's stored rows; it holds nothing to stop. */
export function createAnalyticsModule({ infrastructure, bots }: { infrastructure: InfrastructureModule; bots: Pick<BotsModule, 'service'> }): AnalyticsModule {
  return { service: new AnalyticsService({ store: new AnalyticsRepository(infrastructure.database.pool), bots: bots.service }) };
}
