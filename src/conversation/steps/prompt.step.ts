import { buildPrompt } from '../prompt.js';
import type { Step } from '../turn-state.js';

/** Builds the messages for the model within the bot's context window. */
export const promptStep: Step = {
  stage: 'prompt',
  async run(state, deps) {
    const { settings } = state.bot;
    state.prompt = buildPrompt({
      bot: state.bot,
      ...(state.input.contactName ? { contactName: state.input.contactName } : {}),
      userText: state.userText,
      ...(state.input.attachments ? { attachments: state.input.attachments } : {}),
      ...(state.input.documents?.length ? { documents: state.input.documents } : {}),
      history: state.history,
      ...(state.summary ? { summary: state.summary } : {}),
      passages: state.relevant,
      contextSize: settings.contextSize ?? deps.options.defaultContextSize,
      maxAnswerTokens: settings.maxAnswerTokens ?? deps.options.defaultMaxAnswerTokens,
    });
    return undefined;
  },
};
