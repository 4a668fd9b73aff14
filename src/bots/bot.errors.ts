import { ConflictError } from '../errors.js';
import type { ChannelName } from './bot.types.js';

/** The channel address (e.g. a WhatsApp business number) is already connected to another bot. */
export class ChannelRouteTakenError extends ConflictError {
  constructor(channel: ChannelName) {
    super('CHANNEL_IN_USE', `This ${channel} number is already connected to another bot; disconnect it there first`);
    this.name = 'ChannelRouteTakenError';
  }
}
