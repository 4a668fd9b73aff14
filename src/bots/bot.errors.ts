import { AppError, ConflictError } from '../errors/app.errors.js';
import type { ChannelName } from './bot.types.js';

/** The channel address (e.g. a WhatsApp business number) is already connected to another bot. */
export class ChannelRouteTakenError extends ConflictError {
  constructor(channel: ChannelName) {
    super('CHANNEL_IN_USE', `This ${channel} number is already connected to another bot; disconnect it there first`);
    this.name = 'ChannelRouteTakenError';
  }
}

/** A bot setting asks the model server for more than the operator allows (MAX_CONTEXT_TOKENS, MAX_ANSWER_TOKENS). */
export class SettingAboveCapError extends AppError {
  constructor(setting: string, value: number, cap: { name: string; value: number }) {
    super('SETTING_ABOVE_CAP', 400, `settings.${setting}: ${value} is above this server's cap of ${cap.value} tokens (${cap.name})`, {
      field: `settings.${setting}`,
      cap: cap.name,
      max: cap.value,
    });
    this.name = 'SettingAboveCapError';
  }
}
