import type { Step } from '../turn-state.js';

/** Finds the creator's passages for the turn; a short follow-up is searched together with the previous question. */
export const retrieveStep: Step = {
  stage: 'retrieve',
  async run(state, deps) {
    const words = state.userText.split(/\s+/).filter(Boolean).length;
    const followUp = words <= deps.options.followUpMaxWords && state.previousUserText !== undefined;
    const query = followUp ? `${state.previousUserText}\n${state.userText}` : state.userText;
    state.retrieved = await deps.knowledge.retrieve(state.bot.id, query, { k: deps.options.retrieveK });
    return undefined;
  },
};
