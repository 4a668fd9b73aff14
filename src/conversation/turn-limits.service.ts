import type { ContactRateStore, ModelCallBudget, ReplyGate, ReplyGateDecision } from './turn.ports.js';

export const slowDownText =
  "You're sending messages faster than I can answer them well. Let's slow down a little: wait a minute, then send me your question again.";
export const busyText = "I'm answering a lot of people right now. Please try again in a minute.";

/** Why a turn was refused before any model call. */
export type TurnRefusal = 'contact_rate' | 'model_budget';

export interface TurnLimitsDeps {
  contactRate: ContactRateStore;
  budget: ModelCallBudget;
  /** CONTACT_MESSAGES_PER_MINUTE and BOT_MODEL_CALLS_PER_MINUTE. */
  limits: { contactMessagesPerMinute: number; botModelCallsPerMinute: number };
  /** The gate behind this one (plans and paywalls); without it every turn within the limits is answered. */
  next?: ReplyGate;
  onRefused?(reason: TurnRefusal, botId: string): void;
}

const MINUTE_MS = 60_000;

/**
 * The operator's usage limits, checked before a turn reaches the model, on every channel (the
 * converse worker and web chat take the same gate): a contact writing faster than
 * CONTACT_MESSAGES_PER_MINUTE gets one "slow down" a minute and no answer until they slow down (their
 * messages are kept); a bot past BOT_MODEL_CALLS_PER_MINUTE answers "busy, try again in a minute".
 *
 * Busy is said at once rather than the turn waiting for the next minute: the budget is spent when
 * more people write than the model server can serve, so waiting turns would pile up faster than
 * they drain and be answered minutes late, out of context. A prompt, honest answer lets the person
 * choose to ask again. The budget is taken before the plan's gate so that a refused turn never
 * counts against the creator's replies; a call taken for a turn the plan then refuses is given back.
 */
export class TurnLimitsGate implements ReplyGate {
  constructor(private readonly deps: TurnLimitsDeps) {}

  async check(turn: { id: string; botId: string; conversationId: string }): Promise<ReplyGateDecision> {
    const { contactRate, budget, limits, next } = this.deps;
    const perMinute = limits.contactMessagesPerMinute;
    const recent = await contactRate.recentMessages(turn.conversationId, MINUTE_MS, perMinute + 1);
    if (recent > perMinute) {
      this.deps.onRefused?.('contact_rate', turn.botId);
      const first = await contactRate.claimSlowDownNotice(turn.conversationId, turn.id, MINUTE_MS);
      return { allow: false, message: { text: slowDownText }, ...(first ? {} : { quiet: true }) };
    }
    if (!(await budget.take(turn.botId, limits.botModelCallsPerMinute))) {
      this.deps.onRefused?.('model_budget', turn.botId);
      return { allow: false, message: { text: busyText } };
    }
    if (!next) return { allow: true };
    let decision: ReplyGateDecision;
    try {
      decision = await next.check(turn);
    } catch (err) {
      await budget.giveBack(turn.botId);
      throw err;
    }
    if (!decision.allow) await budget.giveBack(turn.botId);
    return decision;
  }

  async recordReply(turnId: string): Promise<void> {
    await this.deps.next?.recordReply(turnId);
  }
}
