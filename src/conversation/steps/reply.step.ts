import { attributeSources, citationBlock, distinctSources } from '../citations.js';
import { emit, type Step } from '../turn-state.js';

/**
 * Works out which passages the reply drew on and appends their citations: exactly the quoted ones
 * when the material was quoted, otherwise those whose words the model's reply uses.
 */
export const replyStep: Step = {
  stage: 'reply',
  async run(state) {
    const passages = state.prompt?.passages ?? [];
    const quoted = state.responder?.kind === 'extractive' ? state.quotedPassageIds : undefined;
    const used = quoted ? passages.filter((p) => quoted.includes(p.id)) : attributeSources(state.generated, passages);
    const sources = distinctSources(used);
    const citations = citationBlock(sources, state.bot.settings.citeSources);
    emit(state, citations);
    return {
      reply: `${state.generated.trim()}${citations}`,
      sources,
      grounded: quoted ? used.length > 0 : true,
      usedFallback: state.responder?.kind === 'extractive',
    };
  },
};
