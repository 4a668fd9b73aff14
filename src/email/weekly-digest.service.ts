import type { EmailRecipient } from './delivery.ports.js';
import type { EmailService } from './email.service.js';
import type { UnsubscribeTokens } from './unsubscribe-token.js';
import type { DigestBot, WeeklyDigestData } from './templates/weekly-digest.template.js';

/** A bot as the digest reads it: enough to recognise its "I don't know" replies. */
export interface DigestBotInfo {
  id: string;
  name: string;
  language: string;
  /** The bot's own "I don't know" reply, when it set one. */
  unknownAnswer?: string;
}

export interface BotWeek {
  conversations: number;
  activeContacts: number;
  /** End users' questions the bot answered with its "I don't know", most recent first. */
  unansweredQuestions: string[];
}

/** What the digest reads (src/db/digest.repository.ts); every query is scoped to one creator or bot. */
export interface DigestSource {
  /**
   * Creators owed the digest of `period`: they had a bot before it ended and there is no email
   * with their `digestDedupeKey` for it yet. At most `limit`.
   */
  dueCreators(period: DigestPeriod, limit: number): Promise<EmailRecipient[]>;
  bots(creatorId: string): Promise<DigestBotInfo[]>;
  /** Activity of one bot in [start, end); a reply counts as unanswered when it is one of `unknownReplies`. */
  botWeek(botId: string, start: Date, end: Date, unknownReplies: string[], maxQuestions: number): Promise<BotWeek>;
}

/** When digests go out: weekly on `weekday` (0 = Sunday) at `hour`:00 UTC. */
export interface DigestSchedule {
  weekday: number;
  hour: number;
}

export interface DigestPeriod {
  start: Date;
  /** Exclusive; also when the digest becomes due. */
  end: Date;
  /** The period's name in dedupe keys: the UTC date it ends on. */
  key: string;
}

export interface WeeklyDigestDeps {
  source: DigestSource;
  email: Pick<EmailService, 'send'>;
  schedule: DigestSchedule;
  /** Every reply that means "the material does not cover this" for a bot (its own and the default). */
  unknownReplies: (bot: DigestBotInfo) => string[];
  unsubscribeTokens: UnsubscribeTokens;
  links: { platformUrl: string; dashboardUrl: string };
  /** Told when one creator's digest could not be prepared; the next pass tries again. */
  onCreatorFailed?: (err: unknown, creatorId: string) => void;
}

const WEEK_MS = 7 * 24 * 3_600_000;
const MAX_QUESTIONS = 100;
const BATCH = 50;

/** The dedupe key of a creator's digest for one period: `weekly-digest:<creator id>:<period key>`. */
export function digestDedupeKey(creatorId: string, period: Pick<DigestPeriod, 'key'>): string {
  return `weekly-digest:${creatorId}:${period.key}`;
}

/** The latest weekly period that has ended by `now`. */
export function digestPeriod(now: Date, schedule: DigestSchedule): DigestPeriod {
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), schedule.hour));
  end.setUTCDate(end.getUTCDate() - ((end.getUTCDay() - schedule.weekday + 7) % 7));
  if (end.getTime() > now.getTime()) end.setUTCDate(end.getUTCDate() - 7);
  return { start: new Date(end.getTime() - WEEK_MS), end, key: end.toISOString().slice(0, 10) };
}

/**
 * A weekly email per creator: conversations, active contacts and unanswered questions per bot.
 * Each digest is keyed by creator and week, so however many workers run the pass, and however
 * often, a creator gets one per week.
 */
export class WeeklyDigestService {
  constructor(private readonly deps: WeeklyDigestDeps) {}

  /** Queues the digest of the latest ended week for every creator still owed it; returns how many. */
  async sendDue(now = new Date()): Promise<number> {
    const period = digestPeriod(now, this.deps.schedule);
    // Creators handled in this pass; a failed one is tried again on the next pass, not in a loop.
    const handled = new Set<string>();
    let queued = 0;
    for (;;) {
      const due = (await this.deps.source.dueCreators(period, BATCH + handled.size)).filter((c) => !handled.has(c.id));
      if (due.length === 0) return queued;
      for (const creator of due) {
        handled.add(creator.id);
        try {
          await this.sendFor(creator, period);
          queued++;
        } catch (err) {
          this.deps.onCreatorFailed?.(err, creator.id);
        }
      }
    }
  }

  /** The digest of one creator for one period, as the template receives it. */
  async compose(creator: EmailRecipient, period: DigestPeriod): Promise<WeeklyDigestData> {
    const bots: DigestBot[] = [];
    for (const bot of await this.deps.source.bots(creator.id)) {
      const week = await this.deps.source.botWeek(bot.id, period.start, period.end, this.deps.unknownReplies(bot), MAX_QUESTIONS);
      if (week.conversations === 0 && week.unansweredQuestions.length === 0) continue;
      bots.push({ name: bot.name, ...week });
    }
    bots.sort((a, b) => b.conversations - a.conversations || a.name.localeCompare(b.name));
    const platformUrl = this.deps.links.platformUrl.replace(/\/+$/, '');
    const token = this.deps.unsubscribeTokens.create(creator.id, 'weekly-digest');
    return {
      name: creator.name,
      periodStart: period.start,
      periodEnd: period.end,
      bots,
      dashboardUrl: this.deps.links.dashboardUrl,
      unsubscribeUrl: `${platformUrl}/email/unsubscribe?token=${encodeURIComponent(token)}`,
    };
  }

  private async sendFor(creator: EmailRecipient, period: DigestPeriod): Promise<void> {
    await this.deps.email.send({
      category: 'weekly-digest',
      to: { email: creator.email, name: creator.name },
      data: await this.compose(creator, period),
      dedupeKey: digestDedupeKey(creator.id, period),
      creatorId: creator.id,
    });
  }
}
