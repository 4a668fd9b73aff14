/**
 * In an UPDATE of `public.outbound_messages` that marks a row sent: milliseconds from the newest
 * message of the user the reply answers to now (null for messages that answer no user message).
 */
export const REPLY_LATENCY_SQL = `(SELECT greatest(0, round(extract(epoch FROM now() - COALESCE(t.last_message_at, t.created_at)) * 1000))::bigint
   FROM public.turns t WHERE t.id = public.outbound_messages.turn_id AND t.kind = 'message')`;
