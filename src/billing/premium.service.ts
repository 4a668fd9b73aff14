import { NotFoundError, ValidationError } from '../errors/app.errors.js';
import { BillingDisabledError } from './billing.errors.js';
import { contactPremiumSchema, type ContactPremium } from './entitlements.js';
import type { BotPremiumStore } from './ports.js';

export interface PremiumServiceDeps {
  /** Ownership check: resolves for the creator's bot, throws NotFoundError otherwise. */
  bots: { get(creatorId: string, botId: string): Promise<unknown> };
  store: BotPremiumStore;
  /** Without payments a paywall could never be passed, so premium cannot be switched on. */
  paymentsEnabled: boolean;
}

/** A bot's end-user premium: the free replies per month and the Stripe price that unlocks more. */
export class PremiumService {
  constructor(private readonly deps: PremiumServiceDeps) {}

  /** The bot's premium settings; null when every contact is answered for free. */
  async get(creatorId: string, botId: string): Promise<ContactPremium | null> {
    await this.deps.bots.get(creatorId, botId);
    return this.deps.store.find(botId);
  }

  /** Switches premium on (or changes it); contacts already unlocked stay unlocked. */
  async set(creatorId: string, botId: string, input: unknown): Promise<ContactPremium> {
    await this.deps.bots.get(creatorId, botId);
    const parsed = contactPremiumSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ValidationError(`${['body', ...(issue?.path ?? []).map(String)].join('.')}: ${issue?.message ?? 'invalid'}`);
    }
    if (!this.deps.paymentsEnabled) throw new BillingDisabledError();
    await this.deps.store.save(botId, parsed.data);
    return parsed.data;
  }

  /** Switches premium off: every contact is answered within the creator's plan again. */
  async remove(creatorId: string, botId: string): Promise<void> {
    await this.deps.bots.get(creatorId, botId);
    if (!(await this.deps.store.remove(botId))) throw new NotFoundError('Premium settings');
  }
}
