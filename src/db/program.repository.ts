import type pg from 'pg';
import type { EnrolledContact, Enrollment, EnrollmentStatus, Program, ProgramAnswer, ProgramInput, ProgramPatch, ProgramStore } from '../coaching/program.types.js';
import { isUuid } from '../postgres/ids.js';
import { inTransaction } from '../postgres/transaction.js';
import { contactName } from './inbox.repository.js';

const PROGRAM_COLUMNS = `id, bot_id AS "botId", name, slug, steps, created_at AS "createdAt", updated_at AS "updatedAt"`;
const ENROLLMENT_COLUMNS = `id, program_id AS "programId", bot_id AS "botId", contact_id AS "contactId", conversation_id AS "conversationId",
  status, next_step AS "nextStep", enrolled_at AS "enrolledAt", updated_at AS "updatedAt"`;

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

/** Programs, enrollments and answers; every query takes the bot id. */
export class ProgramRepository implements ProgramStore {
  constructor(private readonly pool: pg.Pool) {}

  async insert(botId: string, input: ProgramInput): Promise<Program | 'slug_taken'> {
    try {
      const { rows } = await this.pool.query<Program>(
        `INSERT INTO public.programs (bot_id, name, slug, steps) VALUES ($1, $2, $3, $4) RETURNING ${PROGRAM_COLUMNS}`,
        [botId, input.name, input.slug, JSON.stringify(input.steps)],
      );
      return rows[0]!;
    } catch (err) {
      if (isUniqueViolation(err)) return 'slug_taken';
      throw err;
    }
  }

  async list(botId: string): Promise<Program[]> {
    const { rows } = await this.pool.query<Program>(`SELECT ${PROGRAM_COLUMNS} FROM public.programs WHERE bot_id = $1 ORDER BY created_at`, [botId]);
    return rows;
  }

  async get(botId: string, programId: string): Promise<Program | null> {
    if (!isUuid(programId)) return null;
    const { rows } = await this.pool.query<Program>(`SELECT ${PROGRAM_COLUMNS} FROM public.programs WHERE bot_id = $1 AND id = $2`, [botId, programId]);
    return rows[0] ?? null;
  }

  async bySlug(botId: string, slug: string): Promise<Program | null> {
    const { rows } = await this.pool.query<Program>(`SELECT ${PROGRAM_COLUMNS} FROM public.programs WHERE bot_id = $1 AND lower(slug) = lower($2)`, [
      botId,
      slug,
    ]);
    return rows[0] ?? null;
  }

  async update(botId: string, programId: string, patch: ProgramPatch): Promise<Program | null | 'slug_taken'> {
    if (!isUuid(programId)) return null;
    try {
      const { rows } = await this.pool.query<Program>(
        `UPDATE public.programs SET name = COALESCE($3, name), slug = COALESCE($4, slug), steps = COALESCE($5::jsonb, steps), updated_at = now()
          WHERE bot_id = $1 AND id = $2 RETURNING ${PROGRAM_COLUMNS}`,
        [botId, programId, patch.name ?? null, patch.slug ?? null, patch.steps ? JSON.stringify(patch.steps) : null],
      );
      return rows[0] ?? null;
    } catch (err) {
      if (isUniqueViolation(err)) return 'slug_taken';
      throw err;
    }
  }

  async delete(botId: string, programId: string): Promise<boolean> {
    if (!isUuid(programId)) return false;
    const { rowCount } = await this.pool.query(`DELETE FROM public.programs WHERE bot_id = $1 AND id = $2`, [botId, programId]);
    return (rowCount ?? 0) > 0;
  }

  async enroll(input: { programId: string; botId: string; contactId: string; conversationId: string }): Promise<{ enrollment: Enrollment; created: boolean }> {
    return inTransaction(this.pool, async (client) => {
      // Serialises concurrent enrollments of one contact in one program.
      await client.query(`SELECT 1 FROM public.programs WHERE id = $1 AND bot_id = $2 FOR UPDATE`, [input.programId, input.botId]);
      const { rows: existing } = await client.query<Enrollment>(
        `SELECT ${ENROLLMENT_COLUMNS} FROM public.program_enrollments WHERE program_id = $1 AND contact_id = $2`,
        [input.programId, input.contactId],
      );
      const current = existing[0];
      if (current && (current.status === 'active' || current.status === 'paused')) return { enrollment: current, created: false };
      // Starting again after leaving or finishing: a new enrollment, so its steps have new effect keys.
      if (current) await client.query(`DELETE FROM public.program_enrollments WHERE id = $1`, [current.id]);
      const { rows } = await client.query<Enrollment>(
        `INSERT INTO public.program_enrollments (program_id, bot_id, contact_id, conversation_id) VALUES ($1, $2, $3, $4) RETURNING ${ENROLLMENT_COLUMNS}`,
        [input.programId, input.botId, input.contactId, input.conversationId],
      );
      return { enrollment: rows[0]!, created: true };
    });
  }

  async enrollment(botId: string, enrollmentId: string): Promise<Enrollment | null> {
    if (!isUuid(enrollmentId)) return null;
    const { rows } = await this.pool.query<Enrollment>(`SELECT ${ENROLLMENT_COLUMNS} FROM public.program_enrollments WHERE bot_id = $1 AND id = $2`, [
      botId,
      enrollmentId,
    ]);
    return rows[0] ?? null;
  }

  async enrollments(botId: string, programId: string): Promise<Enrollment[]> {
    if (!isUuid(programId)) return [];
    const { rows } = await this.pool.query<Enrollment>(
      `SELECT ${ENROLLMENT_COLUMNS} FROM public.program_enrollments WHERE bot_id = $1 AND program_id = $2 ORDER BY enrolled_at`,
      [botId, programId],
    );
    return rows;
  }

  async enrollmentPage(botId: string, programId: string, page: { limit: number; before?: string | undefined }): Promise<EnrolledContact[]> {
    if (!isUuid(programId)) return [];
    const { rows } = await this.pool.query<Enrollment & { channel: EnrolledContact['contact']['channel']; display_name: string | null; username: string | null; external_id: string }>(
      `SELECT e.*, k.channel, k.display_name, k.username, k.external_id
         FROM (SELECT ${ENROLLMENT_COLUMNS} FROM public.program_enrollments
                WHERE bot_id = $1 AND program_id = $2
                  AND ($3::uuid IS NULL OR (enrolled_at, id) < (SELECT enrolled_at, id FROM public.program_enrollments WHERE id = $3 AND bot_id = $1))
                ORDER BY enrolled_at DESC, id DESC LIMIT $4) e
         JOIN public.contacts k ON k.id = e."contactId"
        ORDER BY e."enrolledAt" DESC, e.id DESC`,
      [botId, programId, page.before ?? null, page.limit],
    );
    return rows.map(({ channel, display_name, username, external_id, ...e }) => ({
      ...e,
      contact: { channel, displayName: contactName({ channel, display_name, username, external_id, contact_id: e.contactId }) },
    }));
  }

  async currentEnrollment(contactId: string, statuses: EnrollmentStatus[]): Promise<Enrollment | null> {
    const { rows } = await this.pool.query<Enrollment>(
      `SELECT ${ENROLLMENT_COLUMNS} FROM public.program_enrollments WHERE contact_id = $1 AND status = ANY($2) ORDER BY updated_at DESC LIMIT 1`,
      [contactId, statuses],
    );
    return rows[0] ?? null;
  }

  async setStatus(enrollmentId: string, status: EnrollmentStatus): Promise<void> {
    await this.pool.query(`UPDATE public.program_enrollments SET status = $2, updated_at = now() WHERE id = $1`, [enrollmentId, status]);
  }

  async advance(enrollmentId: string, from: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE public.program_enrollments SET next_step = next_step + 1, updated_at = now() WHERE id = $1 AND next_step = $2`,
      [enrollmentId, from],
    );
    return (rowCount ?? 0) > 0;
  }

  async saveAnswer(enrollmentId: string, answer: Omit<ProgramAnswer, 'answeredAt'>): Promise<void> {
    await this.pool.query(
      `INSERT INTO public.program_answers (enrollment_id, step_index, option_index, answer) VALUES ($1, $2, $3, $4)
       ON CONFLICT (enrollment_id, step_index) DO UPDATE SET option_index = EXCLUDED.option_index, answer = EXCLUDED.answer, answered_at = now()`,
      [enrollmentId, answer.stepIndex, answer.optionIndex, answer.answer],
    );
  }

  async answers(enrollmentId: string): Promise<ProgramAnswer[]> {
    const { rows } = await this.pool.query<ProgramAnswer>(
      `SELECT step_index AS "stepIndex", option_index AS "optionIndex", answer, answered_at AS "answeredAt"
         FROM public.program_answers WHERE enrollment_id = $1 ORDER BY step_index`,
      [enrollmentId],
    );
    return rows;
  }
}
