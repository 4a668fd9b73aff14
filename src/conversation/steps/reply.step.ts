import { attributeSources, citationBlock, distinctSources } from '../citations.js';
import { emit, type Step } from '../turn-state.js';

/** Works out which passages the reply drew on and appends their citations. */
export const replyStep: Step = {
  stage: 'reply',
  async run(state) {
    const used = attributeSources(state.generated, state.prompt?.passages ?? []);
    const sources = distinctSources(used);
    const citations = citationBlock(sources, state.bot.settings.citeSources);
    emit(state, citations);
    return {
      reply: `${state.generated.trim()}${citations}`,
      sources,
      grounded: true,
      usedFallback: state.responder?.kind === 'extractive',
    };
  },
};
