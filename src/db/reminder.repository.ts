import type pg from 'pg';
import type { ReminderStore, StoredReminder } from '../coaching/coaching-turns.service.js';

/** One-off reminders contacts asked for (`public.reminders`), one per turn that asked. */
export class ReminderRepository implements ReminderStore {
  constructor(private readonly pool: pg.Pool) {}

  async createForTurn(input: { turnId: string; botId: string; contactId: string; conversationId: string; what: string; dueAt: Date; timeZone: string }): Promise<StoredReminder> {
    const { rows } = await this.pool.query<StoredReminder>(
      `WITH inserted AS (
         INSERT INTO public.reminders (turn_id, bot_id, contact_id, conversation_id, what, due_at, time_zone)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (turn_id) DO NOTHING
         RETURNING id, what, due_at AS "dueAt", time_zone AS "timeZone")
       SELECT * FROM inserted
       UNION ALL
       SELECT id, what, due_at, time_zone FROM public.reminders WHERE turn_id = $1
       LIMIT 1`,
      [input.turnId, input.botId, input.contactId, input.conversationId, input.what, input.dueAt, input.timeZone],
    );
    return rows[0]!;
  }
}
