import { buildPrompt } from '../prompt.js';
import { modelLimits, type Step } from '../turn-state.js';

/** Builds the messages for the model within the bot's context window (as capped by the operator). */
export const promptStep: Step = {
  stage: 'prompt',
  async run(state, deps) {
    const { contextSize, maxTokens } = modelLimits(state.bot.settings, deps.options);
    state.prompt = buildPrompt({
      bot: state.bot,
      ...(state.input.contactName ? { contactName: state.input.contactName } : {}),
      userText: state.userText,
      ...(state.input.attachments ? { attachments: state.input.attachments } : {}),
      ...(state.input.documents?.length ? { documents: state.input.documents } : {}),
      history: state.history,
      ...(state.summary ? { summary: state.summary } : {}),
      passages: state.relevant,
      contextSize,
      maxAnswerTokens: maxTokens,
    });
    return undefined;
  },
};
