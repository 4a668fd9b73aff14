import { describe, expect, it } from 'vitest';
import { decodeTranscriptCursor, encodeTranscriptCursor } from '../../src/conversation/inbox-cursor.js';
import { asksForHuman, humanRequestedAnswer } from '../../src/conversation/phrases.js';

describe('handoff phrases', () => {
  const phrases = ['talk to a human', 'Mit einem Menschen sprechen'];

  it('match as whole words anywhere in the message, whatever the case and punctuation', () => {
    expect(asksForHuman('Talk to a HUMAN!', phrases)).toBe(true);
    expect(asksForHuman('Honestly... can I talk to a human, please?', phrases)).toBe(true);
    expect(asksForHuman('Kann ich mit einem Menschen sprechen?', phrases)).toBe(true);
  });

  it('do not match inside other words or when words are missing', () => {
    expect(asksForHuman('I want to talk to a humanoid robot', phrases)).toBe(false);
    expect(asksForHuman('talk to a', phrases)).toBe(false);
    expect(asksForHuman('How do humans sleep?', phrases)).toBe(false);
    expect(asksForHuman('talk to a human', [])).toBe(false);
    expect(asksForHuman('anything', ['  !!  '])).toBe(false);
  });

  it('are answered in the bot’s language, English when it has no translation', () => {
    expect(humanRequestedAnswer('de-AT')).toMatch(/Jemand antwortet dir hier/);
    expect(humanRequestedAnswer('ja')).toMatch(/Someone will answer you here/);
  });
});

describe('transcript cursors', () => {
  it('carry a takeover event’s place', () => {
    const position = { source: 'event' as const, atMicros: '1764662400000000', id: '0b3c4c55-7e64-4f5e-9d7a-2a0c7f9d8e11' };
    expect(decodeTranscriptCursor(encodeTranscriptCursor(position))).toEqual(position);
  });
});
