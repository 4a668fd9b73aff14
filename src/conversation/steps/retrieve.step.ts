import type { FaqAnswer, Passage } from '../ports.js';
import type { Step } from '../turn-state.js';

/** How citations name a creator's FAQ answer. */
export const FAQ_TITLE = 'FAQ';

/** The creator's FAQ pair as the one passage of a turn: the question and its answer, always relevant. */
function faqPassage(faq: FaqAnswer): Passage {
  // A pair written by hand has no document: its own id keeps its citation apart from documents'.
  return { documentId: faq.documentId ?? faq.id, title: FAQ_TITLE, text: `${faq.question}\n${faq.answer}`, score: Number.POSITIVE_INFINITY, faq };
}

/**
 * Finds the creator's passages for the turn. A question that is one of the creator's FAQ questions
 * (asked in other words) is grounded in their own answer alone; otherwise the material is searched,
 * a short follow-up together with the previous question.
 */
export const retrieveStep: Step = {
  stage: 'retrieve',
  async run(state, deps) {
    const faq = await deps.faqs?.match(state.bot.id, state.bot.language, state.userText);
    if (faq) {
      state.retrieved = [faqPassage(faq)];
      return undefined;
    }
    const words = state.userText.split(/\s+/).filter(Boolean).length;
    const followUp = words <= deps.options.followUpMaxWords && state.previousUserText !== undefined;
    const query = followUp ? `${state.previousUserText}\n${state.userText}` : state.userText;
    state.retrieved = await deps.knowledge.retrieve(state.bot.id, query, { k: deps.options.retrieveK });
    return undefined;
  },
};
