/** The fixed replies of the chat commands and buttons. */
import type { OutboundMessage } from './channel.ports.js';

/** Button ids of the /forget confirmation (Telegram callback_data, ≤ 64 bytes). */
export const FORGET_CONFIRM = 'forget:confirm';
export const FORGET_CANCEL = 'forget:cancel';

/** `/human`: the user asks for a person (the creator) to answer. */
export const HUMAN_COMMAND = 'human';

/** /start: the creator's welcome message, or a default that names the bot. */
export function welcomeReply(botName: string, welcomeMessage: string | undefined): OutboundMessage {
  const own = welcomeMessage?.trim();
  if (own) return { text: own };
  return {
    text: `Hi! I'm ${botName}, your coaching assistant. Ask me anything about the material I coach from — just type your question.\n\nSend /help to see what else I can do.`,
  };
}

/** /help. */
export function helpReply(botName: string): OutboundMessage {
  return {
    text: [
      `I'm ${botName}. Type a question and I'll answer from my coach's material, naming the sources I used.`,
      '',
      '/reset — start our conversation fresh (I forget what we talked about)',
      '/forget — delete everything I have stored about you',
      '/habits — habits you can track with me; /streak — how you are doing',
      '/timezone — the time zone I remind you in (e.g. /timezone Europe/Paris)',
      '/stop — no more reminders or check-ins from me (/start to have them again)',
      '/human — ask for a person to answer you here',
      '/help — show this message',
    ].join('\n'),
  };
}

export const resetReply: OutboundMessage = { text: "Done — I've cleared our conversation. Let's start fresh!" };

export const forgetQuestion: OutboundMessage = {
  text: 'Do you want me to delete our conversation and everything I have stored about you? This cannot be undone.',
  buttons: [
    { id: FORGET_CONFIRM, title: 'Yes, delete' },
    { id: FORGET_CANCEL, title: 'Cancel' },
  ],
};

export const forgottenReply: OutboundMessage = { text: "Done. I've deleted our conversation and what I knew about you." };

export const forgetCancelledReply: OutboundMessage = { text: 'Okay, I kept everything as it was.' };

/** A command we do not have. */
export function unknownCommandReply(name: string): OutboundMessage {
  return { text: `Sorry, I don't know the command /${name}. Send /help to see what I can do.` };
}
