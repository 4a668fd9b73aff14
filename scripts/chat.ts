/**
 * Terminal web chat: `npm run chat -- --bot ID [--url http://localhost:3000] [--token TOKEN]`.
 * Reads one message per line from stdin and prints the reply as it streams (the same SSE endpoint
 * the web page uses). The token may also come from COACH_TOKEN.
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { DEFAULT_CHAT_URL } from '../src/demo/seed-demo.js';

const { values } = parseArgs({
  options: {
    bot: { type: 'string' },
    url: { type: 'string', default: DEFAULT_CHAT_URL },
    token: { type: 'string' },
    session: { type: 'string' },
  },
});
const token = values.token ?? process.env.COACH_TOKEN;
if (!values.bot || !token) {
  console.error('usage: npm run chat -- --bot BOT_ID [--url http://localhost:3000] [--token API_KEY_OR_ACCESS_TOKEN] [--session ID]');
  process.exit(2);
}
const endpoint = `${values.url.replace(/\/+$/, '')}/v1/bots/${encodeURIComponent(values.bot)}/chat`;
const sessionId = values.session ?? `cli-${randomBytes(8).toString('hex')}`;

interface Frame {
  event: string;
  data: unknown;
}

/** Splits a server-sent-event stream into frames with JSON data. */
async function* frames(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const raw = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of raw.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      try {
        yield { event, data: JSON.parse(data.join('\n')) };
      } catch {
        // Comments and keep-alives carry no JSON.
      }
    }
  }
}

async function ask(text: string): Promise<void> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ sessionId, text }),
  });
  if (!response.ok || !response.body) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    console.error(`error ${response.status}: ${body?.error?.message ?? response.statusText}`);
    return;
  }
  process.stdout.write('coach> ');
  // What is on screen of the draft; a draft that starts over (offset 0) starts on a new line.
  let shown = '';
  for await (const frame of frames(response.body)) {
    if (frame.event === 'token') {
      const { text: piece, offset } = frame.data as { text: string; offset: number };
      if (offset === 0 && shown) process.stdout.write('\n       ');
      if (offset === 0 || offset === shown.length) {
        shown = shown.slice(0, offset) + piece;
        process.stdout.write(piece);
      }
    } else if (frame.event === 'done') {
      const { reply, sources, buttons } = frame.data as { reply: string | null; sources: Array<{ title: string; page?: number }>; buttons?: Array<{ title: string }> };
      // Commands and notices come whole, without a draft.
      if (reply !== null && reply.trim() !== shown.trim()) process.stdout.write(shown ? `\n${reply}` : reply);
      process.stdout.write('\n');
      if (sources.length) console.log(`  sources: ${sources.map((s) => (s.page ? `${s.title} (p. ${s.page})` : s.title)).join('; ')}`);
      if (buttons?.length) console.log(`  (buttons in the web chat: ${buttons.map((b) => b.title).join(' / ')})`);
    } else if (frame.event === 'error') {
      console.error(`\nerror: ${(frame.data as { message?: string }).message ?? 'unknown'}`);
    }
  }
}

const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
console.log(`Chatting with bot ${values.bot} (session ${sessionId}); Ctrl-D to quit.`);
rl.setPrompt('you> ');
// Piped input ends before its answers come; the lines already read are still asked.
let inputEnded = false;
rl.once('close', () => (inputEnded = true));
rl.prompt();
for await (const line of rl) {
  const text = line.trim();
  if (text) {
    try {
      await ask(text);
    } catch (err) {
      console.error(`connection failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (!inputEnded) rl.prompt();
}
