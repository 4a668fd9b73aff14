import { defaultUnknownAnswer } from '../phrases.js';
import { answerDirectly, type Step } from '../turn-state.js';

/**
 * Keeps passages that clear the relevance threshold; with none, the bot says it does not know and no
 * model is asked — unless the user shared a document, which the answer can draw on instead.
 */
export const gateStep: Step = {
  stage: 'gate',
  async run(state, deps) {
    const threshold = state.bot.settings.minRelevance ?? deps.options.minRelevance;
    state.relevant = state.retrieved.filter((p) => p.text.trim() !== '' && p.score >= threshold);
    if (state.relevant.length > 0 || (state.input.documents?.length ?? 0) > 0) return undefined;
    return answerDirectly(state, unknownAnswer(state));
  },
};

/** The bot's own "I don't know", or the friendly default in its language. */
export function unknownAnswer(state: { bot: { language: string; settings: { unknownAnswer?: string } } }): string {
  const own = state.bot.settings.unknownAnswer?.trim();
  return own ? own : defaultUnknownAnswer(state.bot.language);
}
