import type { LlmChatRequest } from '../ports.js';
import { emit, modelLimits, type Step } from '../turn-state.js';
import { unknownAnswer } from './gate.step.js';

/** Streams the reply from the model to `onToken`. An empty reply becomes the bot's "I don't know". */
export const generateStep: Step = {
  stage: 'generate',
  async run(state, deps) {
    const prompt = state.prompt;
    if (!prompt) throw new Error('generate ran before prompt');
    const { settings } = state.bot;
    state.responder = { name: deps.llm.name, kind: deps.llm.kind };
    const request: LlmChatRequest = {
      messages: prompt.messages,
      temperature: settings.temperature,
      ...modelLimits(settings, deps.options),
      purpose: 'reply',
      grounding: { botName: state.bot.name, language: state.bot.language, question: state.userText, passages: prompt.passages },
      onResponder: (responder) => {
        state.responder = responder;
        if (responder.kind === 'model') deps.options.onModelCall?.({ botId: state.bot.id, purpose: 'reply' });
      },
      onQuoted: (passageIds) => {
        state.quotedPassageIds = passageIds;
      },
      ...(settings.model ? { model: settings.model } : {}),
      ...(state.hooks.signal ? { signal: state.hooks.signal } : {}),
    };
    for await (const delta of deps.llm.chat(request)) {
      state.generated += delta;
      emit(state, delta);
    }
    if (state.generated.trim() === '') {
      const fallback = unknownAnswer(state);
      emit(state, fallback);
      return { reply: fallback, sources: [], grounded: false, usedFallback: false };
    }
    return undefined;
  },
};
