import { ValidationError } from '../../errors/app.errors.js';
import { attachmentsOnlyAnswer, documentReadAnswer } from '../phrases.js';
import { answerDirectly, type Step } from '../turn-state.js';

/** Checks the turn belongs to the bot and merges the burst into one message. */
export const contextStep: Step = {
  stage: 'context',
  async run(state) {
    if (state.input.botId !== state.bot.id) {
      throw new ValidationError(`Turn for bot ${state.input.botId} was given to bot ${state.bot.id}`);
    }
    state.userText = state.input.texts
      .map((t) => t.trim())
      .filter((t) => t !== '')
      .join('\n');
    if (state.userText !== '') return undefined;
    const read = state.input.attachments?.find((a) => a.read);
    if (read) return answerDirectly(state, documentReadAnswer(state.bot.language, read.fileName ?? state.input.documents?.[0]?.name ?? 'your document'));
    if ((state.input.attachments?.length ?? 0) > 0) return answerDirectly(state, attachmentsOnlyAnswer(state.bot.language));
    throw new ValidationError('A turn needs text or attachments');
  },
};
