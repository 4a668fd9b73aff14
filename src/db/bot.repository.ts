import type pg from 'pg';
import type { BotSettings } from '../bots/bot-settings.js';
import { ChannelRouteTakenError } from '../bots/bot.errors.js';
import type { BotStore, ChannelName, ChannelRouting, StoredBot } from '../bots/bot.types.js';
import { isUuid } from '../postgres/ids.js';

// Channels carry only public_config: the credentials column is never selected by a bot read.
const BOT_COLUMNS = `b.id, b.creator_id AS "creatorId", b.name, b.persona, b.language, b.settings,
  b.created_at AS "createdAt", b.updated_at AS "updatedAt",
  COALESCE((SELECT jsonb_agg(c.public_config || jsonb_build_object('channel', c.channel) ORDER BY c.channel)
              FROM public.bot_channels c WHERE c.bot_id = b.id), '[]'::jsonb) AS channels`;

/** Bots and their channels in `public.bots` / `public.bot_channels`; bot reads are scoped to the creator. */
export class BotRepository implements BotStore {
  constructor(private readonly pool: pg.Pool) {}

  async insert(creatorId: string, input: { name: string; persona: string; language: string; settings: BotSettings }): Promise<StoredBot> {
    const { rows } = await this.pool.query<StoredBot>(
      `WITH b AS (
         INSERT INTO public.bots (creator_id, name, persona, language, settings) VALUES ($1, $2, $3, $4, $5) RETURNING *
       )
       SELECT ${BOT_COLUMNS} FROM b`,
      [creatorId, input.name, input.persona, input.language, JSON.stringify(input.settings)],
    );
    return rows[0]!;
  }

  async listByCreator(creatorId: string): Promise<StoredBot[]> {
    const { rows } = await this.pool.query<StoredBot>(
      `SELECT ${BOT_COLUMNS} FROM public.bots b WHERE b.creator_id = $1 ORDER BY b.created_at, b.id`,
      [creatorId],
    );
    return rows;
  }

  async find(creatorId: string, botId: string): Promise<StoredBot | null> {
    if (!isUuid(botId)) return null;
    const { rows } = await this.pool.query<StoredBot>(`SELECT ${BOT_COLUMNS} FROM public.bots b WHERE b.id = $1 AND b.creator_id = $2`, [
      botId,
      creatorId,
    ]);
    return rows[0] ?? null;
  }

  async update(
    creatorId: string,
    botId: string,
    patch: { name?: string | undefined; persona?: string | undefined; language?: string | undefined; setSettings?: Record<string, unknown>; unsetSettings?: string[] },
  ): Promise<StoredBot | null> {
    if (!isUuid(botId)) return null;
    const { rows } = await this.pool.query<StoredBot>(
      `WITH b AS (
         UPDATE public.bots SET
           name = COALESCE($3, name),
           persona = COALESCE($4, persona),
           language = COALESCE($5, language),
           settings = (settings || $6::jsonb) - $7::text[],
           updated_at = now()
         WHERE id = $1 AND creator_id = $2
         RETURNING *
       )
       SELECT ${BOT_COLUMNS} FROM b`,
      [
        botId,
        creatorId,
        patch.name ?? null,
        patch.persona ?? null,
        patch.language ?? null,
        JSON.stringify(patch.setSettings ?? {}),
        patch.unsetSettings ?? [],
      ],
    );
    return rows[0] ?? null;
  }

  async delete(creatorId: string, botId: string): Promise<boolean> {
    if (!isUuid(botId)) return false;
    const { rowCount } = await this.pool.query(`DELETE FROM public.bots WHERE id = $1 AND creator_id = $2`, [botId, creatorId]);
    return (rowCount ?? 0) > 0;
  }

  async upsertChannel(
    botId: string,
    channel: ChannelName,
    sealedCredentials: string,
    publicConfig: Record<string, unknown>,
    routing: ChannelRouting = {},
  ): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO public.bot_channels (bot_id, channel, credentials, public_config, route_key, verify_token_hash) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (bot_id, channel) DO UPDATE
           SET credentials = EXCLUDED.credentials, public_config = EXCLUDED.public_config, route_key = EXCLUDED.route_key,
               verify_token_hash = EXCLUDED.verify_token_hash, updated_at = now()`,
        [botId, channel, sealedCredentials, JSON.stringify(publicConfig), routing.routeKey ?? null, routing.verifyTokenHash ?? null],
      );
    } catch (err) {
      if ((err as { code?: string; constraint?: string }).code === '23505' && (err as { constraint?: string }).constraint === 'bot_channels_route_idx') {
        throw new ChannelRouteTakenError(channel);
      }
      throw err;
    }
  }

  async findBotIdByRoute(channel: ChannelName, routeKey: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ bot_id: string }>(
      `SELECT bot_id FROM public.bot_channels WHERE channel = $1 AND route_key = $2`,
      [channel, routeKey],
    );
    return rows[0]?.bot_id ?? null;
  }

  async hasVerifyTokenHash(channel: ChannelName, verifyTokenHash: string): Promise<boolean> {
    const { rows } = await this.pool.query(`SELECT 1 FROM public.bot_channels WHERE channel = $1 AND verify_token_hash = $2 LIMIT 1`, [
      channel,
      verifyTokenHash,
    ]);
    return rows.length > 0;
  }

  async deleteChannel(botId: string, channel: ChannelName): Promise<boolean> {
    if (!isUuid(botId)) return false;
    const { rowCount } = await this.pool.query(`DELETE FROM public.bot_channels WHERE bot_id = $1 AND channel = $2`, [botId, channel]);
    return (rowCount ?? 0) > 0;
  }

  async findSealedCredentials(botId: string, channel: ChannelName): Promise<string | null> {
    if (!isUuid(botId)) return null;
    const { rows } = await this.pool.query<{ credentials: string }>(
      `SELECT credentials FROM public.bot_channels WHERE bot_id = $1 AND channel = $2`,
      [botId, channel],
    );
    return rows[0]?.credentials ?? null;
  }
}
