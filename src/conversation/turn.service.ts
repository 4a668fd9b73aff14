import {
  ChannelAuthError,
  ChannelRequestError,
  RecipientBlockedError,
  type ChannelSender,
  type DeliveryContext,
  type InboundMessage,
  type OutboundMessage,
  type SendResult,
} from './channel.ports.js';
import {
  FORGET_CANCEL,
  FORGET_CONFIRM,
  forgetCancelledReply,
  forgetQuestion,
  forgottenReply,
  HUMAN_COMMAND,
  helpReply,
  resetReply,
  unknownCommandReply,
  welcomeReply,
} from './commands.js';
import type { ConversationEngine } from './engine.js';
import { mergeWindowFor } from './inbound.service.js';
import { asksForHuman, humanRequestedAnswer } from './phrases.js';
import type { ConversationMemoryPort } from './ports.js';
import { TokenStream } from './token-stream.js';
import type {
  BotDirectory,
  ClaimedTurn,
  ContactStore,
  ConversationBot,
  HumanHandoff,
  ConversationLocks,
  OutboundLedger,
  ReplyGate,
  SenderDirectory,
  SharedFiles,
  TurnInterceptor,
  TurnStore,
} from './turn.ports.js';
import type { TurnAttachment, TurnInput, UserDocument } from './types.js';

export interface TurnServiceDeps {
  engine: Pick<ConversationEngine, 'runTurn'>;
  memory: Pick<ConversationMemoryPort, 'forget'>;
  bots: BotDirectory;
  turns: TurnStore;
  ledger: OutboundLedger;
  contacts: ContactStore;
  locks: ConversationLocks;
  senders: SenderDirectory;
  /** Turns one creator may have running at once, across all worker processes. */
  perCreatorLimit: number;
  /** Files users send; without it attachments are noted but never downloaded. */
  files?: SharedFiles;
  /** Usage limits, plans and paywalls, consulted before the engine: without it every turn is answered. */
  replyGate?: ReplyGate;
  /** Coaching (reminders, opt-out, programs), which may answer a command, message or button press itself. */
  interceptor?: TurnInterceptor;
  /** Records an end user's request for a person and tells the creator; without it `/human` is an unknown command. */
  handoff?: HumanHandoff;
  /** Told about problems worked around (a typing action or button acknowledgement that failed). */
  onDegraded?(what: string, error: unknown): void;
}

/** What processing one inbound row came to. */
export type ProcessOutcome = 'done' | 'busy' | 'gone';

export interface ProcessResult {
  outcome: ProcessOutcome;
  /**
   * After 'done': the conversation's oldest message not yet claimed whose merge window has passed
   * (seen as the lock was released), which its own job may be waiting to retry; otherwise null.
   */
  nextDue: string | null;
}

/** Which turn a reply answers, for the senders. */
function deliveryContext(turn: ClaimedTurn): DeliveryContext {
  return { turnId: turn.id, inboundIds: turn.inboundIds };
}

/** A reply: a fixed message, or one generated while it is streamed to the user. */
type Reply = { message: OutboundMessage } | { stream: (sender: ChannelSender, ledgerId: string) => Promise<SendResult> };

// How long a document the user shared stays in the coach's view for follow-up questions.
const DOCUMENT_MEMORY_MS = 24 * 60 * 60 * 1000;

// Why generation is stopped once the reply is out (or its send failed).
const GENERATION_OVER = new Error('the reply is finished');

/** The conversation was taken over while its reply was written: the turn is held, nothing goes out. */
class TakenOverWhileWriting extends Error {
  constructor() {
    super('a person took the conversation over while the reply was written');
    this.name = 'TakenOverWhileWriting';
  }
}

// A job never answers more turns than this before yielding its slot (a guard, not a tuning knob).
const MAX_TURNS_PER_JOB = 50;

// A burst that keeps growing is answered once its first message has waited this many merge windows.
const MAX_BURST_WAIT_WINDOWS = 4;

/**
 * Answers a conversation's inbound messages, one turn at a time and in arrival order:
 * claim → engine (or command) → ledger → send. Every effect is keyed, so running the same job
 * twice — after a crash, a retry or a reconciliation — changes nothing the user sees.
 *
 * Delivery and crashes: the ledger row is `pending` while the reply is generated and streamed as a
 * draft, `sending` (with the final text) right before the final message goes out, then `sent`. A
 * turn resumed from `pending` is generated again (the user only saw a draft, which is not a
 * message); one resumed from `sending` re-sends the recorded text without generating, so the user
 * gets the reply at least once — a duplicate only if the crash hit the few milliseconds between
 * Telegram accepting the message and the ledger write.
 */
export class TurnService {
  constructor(private readonly deps: TurnServiceDeps) {}

  /** Makes sure the turn holding `inboundId` is answered; 'busy' when it must wait for a lock. */
  async process(inboundId: string): Promise<ProcessResult> {
    const { deps } = this;
    const lease = await deps.locks.acquireFor(inboundId, deps.perCreatorLimit);
    if (lease === 'gone') return { outcome: 'gone', nextDue: null };
    if (!lease) return { outcome: 'busy', nextDue: null };
    let bot: ConversationBot | null;
    let outcome: ProcessOutcome | 'deferred';
    try {
      bot = await deps.bots.find(lease.botId);
      outcome = bot ? await this.answerThrough(bot, inboundId, lease.conversationId, mergeWindowFor(bot, lease.channel)) : 'gone';
    } catch (err) {
      await lease.release();
      throw err;
    }
    if (outcome === 'deferred') {
      await lease.release();
      return { outcome: 'done', nextDue: null };
    }
    if (outcome !== 'done' || !bot) {
      await lease.release();
      return { outcome, nextDue: null };
    }
    return { outcome, nextDue: await lease.releaseFindingNext(mergeWindowFor(bot, lease.channel)) };
  }

  /**
   * Runs the conversation's turns, earliest first, until the one holding `inboundId` is settled.
   * 'deferred': the message is in a burst that is still growing, and a newer message's job answers it.
   *
   * A burst is one turn only once it is complete: merging by each message's own delay would answer a
   * contact who keeps typing (messages closer than the merge window, for longer than it) every
   * window or on every message, one model call each. So a message's job waits while its burst still
   * grows (its newest message is younger than the window), leaves it to the newest message's job,
   * and a burst that never pauses is answered once its first message has waited a few windows.
   */
  private async answerThrough(bot: ConversationBot, inboundId: string, conversationId: string, mergeWindowMs: number): Promise<ProcessOutcome | 'deferred'> {
    for (let i = 0; i < MAX_TURNS_PER_JOB; i++) {
      if (mergeWindowMs > 0) {
        const burst = await this.deps.turns.burstState(inboundId, conversationId, mergeWindowMs, mergeWindowMs * MAX_BURST_WAIT_WINDOWS);
        if (burst === 'growing_newer') return 'deferred';
        if (burst === 'growing') return 'busy';
      }
      // Earlier work first: an unfinished turn, then the next burst in arrival order (which includes ours eventually).
      const next = await this.deps.turns.next(inboundId, conversationId, DOCUMENT_MEMORY_MS);
      if (next.next === 'gone') return 'gone';
      if (next.next === 'settled') return 'done';
      await this.run(bot, next.turn);
      // A turn that ran to its end is answered or failed: no need to ask again when it held ours.
      if (next.turn.inboundIds.includes(inboundId)) return 'done';
    }
    return 'busy';
  }

  /** Records that retries are exhausted for the turn holding `inboundId`. */
  async giveUp(inboundId: string, error: unknown): Promise<void> {
    await this.deps.turns.failFor(inboundId, error instanceof Error ? error.message : String(error));
  }

  private async run(bot: ConversationBot, turn: ClaimedTurn): Promise<unknown> {
    // A person answers this conversation: its messages stay stored and shown, the bot says nothing.
    // A coaching command still takes effect (a /stop opts out at once); its reply is withheld.
    if (turn.takenOver && turn.kind !== 'contact_status') {
      if (turn.kind === 'command') await this.deps.interceptor?.intercept(turn);
      return this.deps.turns.finish(turn.id, 'held');
    }
    switch (turn.kind) {
      case 'contact_status': {
        const status = turn.messages[0]?.contactStatus;
        if (status) await this.deps.contacts.setBlocked(turn.conversationId, status === 'blocked');
        return this.deps.turns.finish(turn.id, 'answered');
      }
      case 'command':
        return this.runCommand(bot, turn, turn.messages[0] as InboundMessage);
      case 'callback':
        return this.runCallback(turn, turn.messages[0] as InboundMessage);
      case 'message':
        return this.runMessage(bot, turn);
    }
  }

  private async runCommand(bot: ConversationBot, turn: ClaimedTurn, message: InboundMessage): Promise<unknown> {
    if (this.deps.handoff && message.command?.name === HUMAN_COMMAND) return this.handOff(bot, turn);
    const own = await this.deps.interceptor?.intercept(turn);
    if (own) return this.deliver(turn, { message: own });
    const name = message.command?.name ?? '';
    switch (name) {
      case 'start':
        if (message.command?.payload) await this.deps.contacts.setDeepLinkPayload(turn.conversationId, message.command.payload);
        return this.deliver(turn, { message: welcomeReply(bot.profile.name, bot.welcomeMessage) });
      case 'help':
        return this.deliver(turn, { message: helpReply(bot.profile.name) });
      case 'reset':
        await this.deps.memory.forget(turn.conversationId);
        return this.deliver(turn, { message: resetReply });
      case 'forget':
        return this.deliver(turn, { message: forgetQuestion });
      default:
        return this.deliver(turn, { message: unknownCommandReply(name) });
    }
  }

  private async runCallback(turn: ClaimedTurn, message: InboundMessage): Promise<unknown> {
    const data = message.callback?.data;
    const sender = await this.deps.senders.sender(turn.botId, turn.channel);
    if (sender && message.callback) {
      // Stops the button's spinner; an old press that cannot be acknowledged is still acted on.
      await sender.answerCallback(message.callback.id).catch((err: unknown) => this.deps.onDegraded?.('button press not acknowledged', err));
    }
    const own = await this.deps.interceptor?.intercept(turn);
    if (own) return this.deliver(turn, { message: own });
    if (data === FORGET_CONFIRM) {
      await this.deps.files?.forgetConversation(turn.botId, turn.conversationId);
      await this.deps.contacts.forgetContact(turn.conversationId, turn.id);
      return this.deliver(turn, { message: forgottenReply });
    }
    if (data === FORGET_CANCEL) return this.deliver(turn, { message: forgetCancelledReply });
    return this.deps.turns.finish(turn.id, 'answered');
  }

  private async runMessage(bot: ConversationBot, turn: ClaimedTurn): Promise<unknown> {
    if (this.deps.handoff && bot.handoffPhrases.length > 0) {
      const said = turn.messages.filter((m) => m.kind === 'text').map((m) => m.text ?? '');
      if (said.some((text) => asksForHuman(text, bot.handoffPhrases))) return this.handOff(bot, turn);
    }
    const own = await this.deps.interceptor?.intercept(turn);
    if (own) return this.deliver(turn, { message: own });
    const texts: string[] = [];
    const attachments: TurnAttachment[] = [];
    for (const m of turn.messages) {
      // Edits are not answered again (the original message was), and a reaction needs no answer.
      if (m.kind === 'edited' || m.kind === 'reaction') continue;
      if (m.text !== undefined && m.text.trim() !== '') texts.push(m.text);
      for (const a of m.attachments) {
        const read = await this.receiveFile(turn, a);
        attachments.push({ type: a.type, ...(a.fileName ? { fileName: a.fileName } : {}), ...(read ? { read } : {}) });
      }
      if (m.kind === 'unsupported') attachments.push({ type: 'other' });
    }
    if (texts.length === 0 && attachments.length === 0) return this.deps.turns.finish(turn.id, 'answered');
    // The creator's quota or the bot's paywall may answer instead of the coach: no model call then.
    const gate = await this.deps.replyGate?.check(turn);
    if (gate && !gate.allow) {
      // The contact heard this a moment ago: the turn is settled without telling them again, except
      // on the web, where a page waits for this message's answer.
      if (gate.quiet && turn.channel !== 'web') return this.deps.turns.finish(turn.id, 'answered');
      return this.deliver(turn, { message: gate.message });
    }
    // Documents shared earlier (known at the claim) or read just now.
    const shared = turn.sharedDocuments || attachments.some((a) => a.read);
    const documents: UserDocument[] = (shared && (await this.deps.files?.recentDocuments(turn.conversationId, DOCUMENT_MEMORY_MS))) || [];
    const contactName = turn.messages.findLast((m) => m.contact.displayName)?.contact.displayName;
    const input: TurnInput = {
      botId: turn.botId,
      conversationId: turn.conversationId,
      texts,
      ...(attachments.length ? { attachments } : {}),
      ...(documents.length ? { documents } : {}),
      ...(contactName ? { contactName } : {}),
    };
    const delivered = await this.deliver(turn, { stream: (sender, ledgerId) => this.generate(bot, turn, input, sender, ledgerId) });
    // Only a reply the user got counts against their free allowance.
    if (delivered) await this.deps.replyGate?.recordReply(turn.id);
  }

  /** The user asked for a person: the conversation is flagged, the creator told, and the user that someone will answer. */
  private async handOff(bot: ConversationBot, turn: ClaimedTurn): Promise<unknown> {
    await this.deps.handoff?.request(turn);
    return this.deliver(turn, { message: { text: humanRequestedAnswer(bot.profile.language) } });
  }

  /** Downloads and keeps a file the user sent, where the channel can; true when it is a document that was read. */
  private async receiveFile(turn: ClaimedTurn, attachment: InboundMessage['attachments'][number]): Promise<boolean> {
    const files = this.deps.files;
    if (!files || !attachment.fileId) return false;
    const sender = await this.deps.senders.sender(turn.botId, turn.channel);
    const download = sender?.downloadMedia?.bind(sender);
    if (!download) return false;
    const outcome = await files.receive({ botId: turn.botId, conversationId: turn.conversationId, channel: turn.channel, download }, attachment);
    if (!outcome.stored) this.deps.onDegraded?.(`file ${attachment.fileId} not kept: ${outcome.reason}`, undefined);
    return outcome.stored && outcome.text !== undefined;
  }

  /** Runs the engine and streams its reply; the ledger turns `sending` just before the final message. */
  private async generate(bot: ConversationBot, turn: ClaimedTurn, input: TurnInput, sender: ChannelSender, ledgerId: string): Promise<SendResult> {
    const tokens = new TokenStream();
    const abort = new AbortController();
    const running = this.deps.engine.runTurn(bot.profile, input, {
      onToken: (delta) => tokens.push(delta),
      onStage: (stage) => {
        if (stage !== 'retrieve') return;
        // WhatsApp shows "typing…" against the user's latest message (and marks it read).
        const latest = turn.messages.findLast((m) => m.externalMessageId)?.externalMessageId;
        sender.sendTyping(turn.externalChatId, latest).catch((err: unknown) => this.deps.onDegraded?.('typing action failed', err));
      },
      signal: abort.signal,
    });
    running.then(
      () => tokens.end(),
      (err: unknown) => tokens.fail(err),
    );
    try {
      return await sender.streamText(turn.externalChatId, tokens, {
        context: deliveryContext(turn),
        final: async () => {
          const result = await running;
          if (!(await this.deps.turns.saveFinalReply({ turnId: turn.id, ledgerId }, result.reply, result.sources))) throw new TakenOverWhileWriting();
          return { text: result.reply };
        },
      });
    } finally {
      // A send that failed mid-stream stops generation too. A fixed reason: abort() without one
      // builds a DOMException (with its stack) on every turn.
      abort.abort(GENERATION_OVER);
    }
  }

  /** Delivers the turn's one reply through its ledger row, then marks the turn answered; whether the user got it. */
  private async deliver(turn: ClaimedTurn, reply: Reply): Promise<boolean> {
    const { ledger, turns, contacts } = this.deps;
    const record = await ledger.open({ turnId: turn.id, botId: turn.botId, conversationId: turn.conversationId });
    if (record.status === 'sent' || record.status === 'failed') {
      await turns.finish(turn.id, 'answered');
      return record.status === 'sent';
    }
    if (turn.contactBlocked) {
      await ledger.markFailed(record.id, 'The recipient has blocked the bot');
      await turns.finish(turn.id, 'answered');
      return false;
    }
    const sender = await this.deps.senders.sender(turn.botId, turn.channel);
    if (!sender) {
      await ledger.markFailed(record.id, `The ${turn.channel} channel is not connected`);
      await turns.finish(turn.id, 'failed', 'channel not connected');
      return false;
    }
    try {
      let result: SendResult;
      if ('message' in reply) {
        // Held: taken over since the claim; the turn is settled and nothing was sent.
        if (!(await turns.startSending({ turnId: turn.id, ledgerId: record.id }, reply.message.text))) return false;
        result = await sender.sendText(turn.externalChatId, reply.message, deliveryContext(turn));
      } else if (record.status === 'sending' && record.text) {
        // The reply was complete when an earlier attempt died: send what was generated, do not generate again.
        result = await sender.sendText(turn.externalChatId, { text: record.text }, deliveryContext(turn));
      } else {
        result = await reply.stream(sender, record.id);
      }
      await turns.finishSent({ turnId: turn.id, ledgerId: record.id }, result.messageIds);
      return true;
    } catch (err) {
      // saveFinalReply held the turn and dropped its ledger row: nothing more to record.
      if (err instanceof TakenOverWhileWriting) return false;
      if (err instanceof RecipientBlockedError) {
        await contacts.setBlocked(turn.conversationId, true);
        await ledger.markFailed(record.id, err.message);
        await turns.finish(turn.id, 'answered');
        return false;
      }
      // Credentials revoked, or a refusal retrying cannot change (e.g. WhatsApp's window closed and no template).
      if (err instanceof ChannelAuthError || (err instanceof ChannelRequestError && !err.retryable)) {
        await ledger.markFailed(record.id, err.message);
        await turns.finish(turn.id, 'failed', err.message);
        return false;
      }
      throw err;
    }
  }
}
