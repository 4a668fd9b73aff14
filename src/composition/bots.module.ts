import { BotService } from '../bots/bot.service.js';
import type { Config } from '../config.js';
import { BotRepository } from '../db/bot.repository.js';
import { SecretBox } from '../security/secret-box.js';
import type { BillingModule } from './billing.module.js';
import type { InfrastructureModule } from './infrastructure.module.js';
import type { ModuleLifecycle } from './module.types.js';

/** Bots, their settings and their sealed channel credentials. */
export interface BotsModule extends ModuleLifecycle {
  /** Stores outside PostgreSQL's cascades (vectors, media) clean up through its `addBotDeletedListener`. */
  service: BotService;
}

/** Builds the bot service; creating a bot is checked against the creator's plan. */
export function createBotsModule({ config, infrastructure, billing }: { config: Config; infrastructure: InfrastructureModule; billing: Pick<BillingModule, 'service'> }): BotsModule {
  return {
    service: new BotService({
      bots: new BotRepository(infrastructure.database.pool),
      secretBox: new SecretBox(config.ENCRYPTION_KEY),
      quota: billing.service,
      caps: { contextTokens: config.MAX_CONTEXT_TOKENS, answerTokens: config.MAX_ANSWER_TOKENS },
    }),
  };
}
