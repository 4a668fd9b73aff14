import type pg from 'pg';
import type { CheckInDay } from '../coaching/habit-days.js';
import type { CheckIn, Habit, HabitInput, HabitPatch, HabitStore, HabitSubscription, SubscriptionStatus } from '../coaching/habit.types.js';
import { isUuid } from '../postgres/ids.js';

const HABIT_COLUMNS = `id, bot_id AS "botId", name, local_time AS "localTime", days_of_week::int[] AS "daysOfWeek",
  times_per_week AS "timesPerWeek", created_at AS "createdAt", updated_at AS "updatedAt"`;
const SUBSCRIPTION_COLUMNS = `id, habit_id AS "habitId", bot_id AS "botId", contact_id AS "contactId", conversation_id AS "conversationId",
  status, to_char(started_on, 'YYYY-MM-DD') AS "startedOn", created_at AS "createdAt"`;

/** Habits, subscriptions and check-ins; every query on creator content takes the bot id. */
export class HabitRepository implements HabitStore {
  constructor(private readonly pool: pg.Pool) {}

  async insert(botId: string, input: HabitInput): Promise<Habit> {
    const { rows } = await this.pool.query<Habit>(
      `INSERT INTO public.habits (bot_id, name, local_time, days_of_week, times_per_week) VALUES ($1, $2, $3, $4, $5) RETURNING ${HABIT_COLUMNS}`,
      [botId, input.name, input.localTime, input.daysOfWeek ?? [], input.timesPerWeek ?? null],
    );
    return rows[0]!;
  }

  async list(botId: string): Promise<Habit[]> {
    const { rows } = await this.pool.query<Habit>(`SELECT ${HABIT_COLUMNS} FROM public.habits WHERE bot_id = $1 ORDER BY created_at, id`, [botId]);
    return rows;
  }

  async get(botId: string, habitId: string): Promise<Habit | null> {
    if (!isUuid(habitId)) return null;
    const { rows } = await this.pool.query<Habit>(`SELECT ${HABIT_COLUMNS} FROM public.habits WHERE bot_id = $1 AND id = $2`, [botId, habitId]);
    return rows[0] ?? null;
  }

  async byNameOrId(botId: string, nameOrId: string): Promise<Habit | null> {
    const byId = await this.get(botId, nameOrId.trim());
    if (byId) return byId;
    const { rows } = await this.pool.query<Habit>(
      `SELECT ${HABIT_COLUMNS} FROM public.habits WHERE bot_id = $1 AND lower(name) = lower($2) ORDER BY created_at LIMIT 1`,
      [botId, nameOrId.trim()],
    );
    return rows[0] ?? null;
  }

  async update(botId: string, habitId: string, patch: HabitPatch): Promise<Habit | null> {
    if (!isUuid(habitId)) return null;
    const { rows } = await this.pool.query<Habit>(
      `UPDATE public.habits SET name = COALESCE($3, name), local_time = COALESCE($4, local_time), days_of_week = COALESCE($5, days_of_week),
              times_per_week = CASE WHEN $6 THEN $7::smallint ELSE times_per_week END, updated_at = now()
        WHERE bot_id = $1 AND id = $2 RETURNING ${HABIT_COLUMNS}`,
      [botId, habitId, patch.name ?? null, patch.localTime ?? null, patch.daysOfWeek ?? null, patch.timesPerWeek !== undefined, patch.timesPerWeek ?? null],
    );
    return rows[0] ?? null;
  }

  async delete(botId: string, habitId: string): Promise<boolean> {
    if (!isUuid(habitId)) return false;
    const { rowCount } = await this.pool.query(`DELETE FROM public.habits WHERE bot_id = $1 AND id = $2`, [botId, habitId]);
    return (rowCount ?? 0) > 0;
  }

  async subscribe(input: { habitId: string; botId: string; contactId: string; conversationId: string; startedOn: string }): Promise<{ subscription: HabitSubscription; created: boolean }> {
    // xmax = 0 only on a freshly inserted row; a stopped or paused subscription becomes active again and keeps its history.
    const { rows } = await this.pool.query<HabitSubscription & { inserted: boolean }>(
      `INSERT INTO public.habit_subscriptions (habit_id, bot_id, contact_id, conversation_id, started_on)
       SELECT h.id, h.bot_id, $3, $4, $5::date FROM public.habits h WHERE h.id = $1 AND h.bot_id = $2
       ON CONFLICT (habit_id, contact_id) DO UPDATE SET status = 'active', conversation_id = EXCLUDED.conversation_id, updated_at = now()
       RETURNING ${SUBSCRIPTION_COLUMNS}, (xmax = 0) AS inserted`,
      [input.habitId, input.botId, input.contactId, input.conversationId, input.startedOn],
    );
    const { inserted, ...subscription } = rows[0]!;
    return { subscription, created: inserted };
  }

  async subscription(botId: string, subscriptionId: string): Promise<HabitSubscription | null> {
    if (!isUuid(subscriptionId)) return null;
    const { rows } = await this.pool.query<HabitSubscription>(`SELECT ${SUBSCRIPTION_COLUMNS} FROM public.habit_subscriptions WHERE bot_id = $1 AND id = $2`, [
      botId,
      subscriptionId,
    ]);
    return rows[0] ?? null;
  }

  async subscriptions(botId: string, habitId: string): Promise<HabitSubscription[]> {
    if (!isUuid(habitId)) return [];
    const { rows } = await this.pool.query<HabitSubscription>(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM public.habit_subscriptions WHERE bot_id = $1 AND habit_id = $2 ORDER BY created_at, id`,
      [botId, habitId],
    );
    return rows;
  }

  async ofContact(contactId: string, statuses: SubscriptionStatus[]): Promise<HabitSubscription[]> {
    const { rows } = await this.pool.query<HabitSubscription>(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM public.habit_subscriptions WHERE contact_id = $1 AND status = ANY($2) ORDER BY created_at, id`,
      [contactId, statuses],
    );
    return rows;
  }

  async setStatus(subscriptionId: string, status: SubscriptionStatus): Promise<void> {
    await this.pool.query(`UPDATE public.habit_subscriptions SET status = $2, updated_at = now() WHERE id = $1`, [subscriptionId, status]);
  }

  async checkIn(subscriptionId: string, day: CheckInDay, source: CheckIn['source']): Promise<void> {
    // The same answer again changes nothing; a different one ("Not today", then "Done") corrects the day.
    // The bot is the subscription's, kept on the check-in for the analytics of a bot's days; a day
    // the analytics kept already (a late answer) is dropped from them, to be aggregated again.
    await this.pool.query(
      `WITH saved AS (
         INSERT INTO public.habit_checkins (subscription_id, local_date, status, source, bot_id)
         SELECT $1, $2::date, $3, $4, s.bot_id FROM public.habit_subscriptions s WHERE s.id = $1
         ON CONFLICT (subscription_id, local_date) DO UPDATE SET status = EXCLUDED.status, source = EXCLUDED.source, recorded_at = now()
          WHERE habit_checkins.status <> EXCLUDED.status
         RETURNING bot_id
       )
       DELETE FROM public.analytics_days a USING saved WHERE a.bot_id = saved.bot_id AND a.day = $2::date AND a.settled`,
      [subscriptionId, day.localDate, day.status, source],
    );
  }

  async checkIns(subscriptionId: string): Promise<CheckIn[]> {
    const { rows } = await this.pool.query<CheckIn>(
      `SELECT to_char(local_date, 'YYYY-MM-DD') AS "localDate", status, source, recorded_at AS "recordedAt"
         FROM public.habit_checkins WHERE subscription_id = $1 ORDER BY local_date`,
      [subscriptionId],
    );
    return rows;
  }

  async lastAsked(subscriptionId: string): Promise<string | null> {
    // Keys end with the local date ("YYYY-MM-DD"), so the greatest key is the latest day.
    const { rows } = await this.pool.query<{ key: string | null }>(
      // Narrowed by the contact first (indexed), then by the key's prefix.
      `SELECT max(effect_key) AS key FROM public.proactive_sends
        WHERE contact_id = (SELECT contact_id FROM public.habit_subscriptions WHERE id = $2) AND effect_key LIKE $1 AND status IN ('sent', 'skipped', 'failed')`,
      [`habit:${subscriptionId}:%`, subscriptionId],
    );
    return rows[0]?.key?.slice(-10) ?? null;
  }

  async latestAsk(contactId: string, since: Date): Promise<string | null> {
    const { rows } = await this.pool.query<{ effectKey: string }>(
      `SELECT effect_key AS "effectKey" FROM public.proactive_sends
        WHERE contact_id = $1 AND kind = 'habit_ask' AND status = 'sent' AND due_at >= $2
        ORDER BY due_at DESC LIMIT 1`,
      [contactId, since],
    );
    return rows[0]?.effectKey ?? null;
  }
}
