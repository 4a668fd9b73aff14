import type pg from 'pg';
import type { MediaRecords, NewMedia, StoredMedia } from '../media/media.ports.js';

interface MediaRow {
  id: string;
  kind: string;
  mime_type: string;
  file_name: string | null;
  size_bytes: string;
  storage_key: string;
  extracted_text: string | null;
}

const COLUMNS = 'id, kind, mime_type, file_name, size_bytes, storage_key, extracted_text';

function toMedia(row: MediaRow): StoredMedia {
  return {
    id: row.id,
    kind: row.kind,
    mimeType: row.mime_type,
    fileName: row.file_name,
    sizeBytes: Number(row.size_bytes),
    storageKey: row.storage_key,
    extractedText: row.extracted_text,
  };
}

/** Files users sent (`public.media_files`). */
export class MediaRepository implements MediaRecords {
  constructor(private readonly pool: pg.Pool) {}

  async find(botId: string, channel: string, fileId: string): Promise<StoredMedia | null> {
    const { rows } = await this.pool.query<MediaRow>(`SELECT ${COLUMNS} FROM public.media_files WHERE bot_id = $1 AND channel = $2 AND file_id = $3`, [
      botId,
      channel,
      fileId,
    ]);
    return rows[0] ? toMedia(rows[0]) : null;
  }

  async insert(media: NewMedia): Promise<StoredMedia> {
    const { rows } = await this.pool.query<MediaRow>(
      `WITH inserted AS (
         INSERT INTO public.media_files (bot_id, conversation_id, channel, file_id, kind, mime_type, file_name, size_bytes, sha256, storage_key, extracted_text)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (bot_id, channel, file_id) DO NOTHING
         RETURNING ${COLUMNS})
       SELECT ${COLUMNS} FROM inserted
       UNION ALL
       SELECT ${COLUMNS} FROM public.media_files WHERE bot_id = $1 AND channel = $3 AND file_id = $4
       LIMIT 1`,
      [
        media.botId,
        media.conversationId,
        media.channel,
        media.fileId,
        media.kind,
        media.mimeType,
        media.fileName ?? null,
        media.sizeBytes,
        media.sha256,
        media.storageKey,
        media.extractedText ?? null,
      ],
    );
    return toMedia(rows[0]!);
  }

  async recentDocuments(conversationId: string, sinceMs: number, limit: number): Promise<Array<{ fileName: string | null; extractedText: string }>> {
    const { rows } = await this.pool.query<{ file_name: string | null; extracted_text: string }>(
      `SELECT file_name, extracted_text FROM public.media_files
        WHERE conversation_id = $1 AND extracted_text IS NOT NULL AND created_at > now() - $2 * interval '1 millisecond'
        ORDER BY created_at DESC LIMIT $3`,
      [conversationId, sinceMs, limit],
    );
    return rows.map((r) => ({ fileName: r.file_name, extractedText: r.extracted_text }));
  }

  async deleteConversation(conversationId: string): Promise<void> {
    await this.pool.query(`DELETE FROM public.media_files WHERE conversation_id = $1`, [conversationId]);
  }
}
