import { buildSummaryMessages } from '../prompt.js';
import type { MemoryTurn } from '../ports.js';
import { modelLimits, type Step, type StepDeps, type TurnState } from '../turn-state.js';

function characters(turns: readonly MemoryTurn[]): number {
  return turns.reduce((n, t) => n + t.text.length, 0);
}

/** Drops the current burst's own messages when the store already holds them (persisted before the turn ran). */
function withoutCurrentBurst(turns: MemoryTurn[], texts: readonly string[]): MemoryTurn[] {
  const current = new Set(texts.map((t) => t.trim()));
  let end = turns.length;
  while (end > 0) {
    const last = turns[end - 1] as MemoryTurn;
    if (last.role !== 'user' || !current.has(last.text.trim())) break;
    end -= 1;
  }
  return turns.slice(0, end);
}

async function summarise(state: TurnState, deps: StepDeps, previous: string | undefined, older: MemoryTurn[]): Promise<string> {
  let text = '';
  const request = {
    messages: buildSummaryMessages({ bot: state.bot, ...(previous ? { previousSummary: previous } : {}), turns: older }),
    temperature: 0.2,
    ...modelLimits(state.bot.settings, deps.options, deps.options.summaryMaxTokens),
    purpose: 'summary' as const,
    ...(state.bot.settings.model ? { model: state.bot.settings.model } : {}),
    ...(state.hooks.signal ? { signal: state.hooks.signal } : {}),
  };
  deps.options.onModelCall?.({ botId: state.bot.id, purpose: 'summary' });
  for await (const delta of deps.llm.chat(request)) text += delta;
  return text.trim();
}

/**
 * Loads recent turns and the rolling summary. When the turns not yet summarised grow past the
 * limits, the older ones are folded into the summary through the model and saved, so later turns
 * reuse it instead of carrying the whole history.
 */
export const memoryStep: Step = {
  stage: 'memory',
  async run(state, deps) {
    const { memory, options } = deps;
    const conversationId = state.input.conversationId;
    const [stored, saved] = await Promise.all([
      memory.recentTurns(conversationId, options.historyWindow),
      memory.summary(conversationId),
    ]);
    const turns = withoutCurrentBurst(stored, state.input.texts);
    state.previousUserText = turns.findLast((t) => t.role === 'user')?.text;

    // Turns up to the one the summary covers are in it already; if that turn is older than the window, none are.
    const covered = saved ? turns.findIndex((t) => t.id === saved.coversUpToTurnId) : -1;
    const unsummarised = turns.slice(covered + 1);
    state.summary = saved?.text;
    state.history = unsummarised;

    const tooLong = unsummarised.length > options.summariseAfterTurns || characters(unsummarised) > options.summariseAfterChars;
    if (!tooLong || deps.llm.kind !== 'model') return undefined;

    const keep = Math.min(options.keepRecentTurns, unsummarised.length - 1);
    const older = unsummarised.slice(0, unsummarised.length - keep);
    const newest = older.at(-1) as MemoryTurn;
    let text: string;
    try {
      text = await summarise(state, deps, saved?.text, older);
    } catch (err) {
      if (state.hooks.signal?.aborted) throw err;
      // Without a new summary the turn still works from the recent turns; the next turn tries again.
      options.onDegraded?.('conversation summary could not be written', err);
      return undefined;
    }
    if (text === '') return undefined;
    state.summary = text;
    state.history = unsummarised.slice(older.length);
    try {
      await memory.saveSummary(conversationId, text, newest.id);
    } catch (err) {
      options.onDegraded?.('conversation summary could not be saved', err);
    }
    return undefined;
  },
};
