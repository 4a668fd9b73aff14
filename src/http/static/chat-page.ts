// The email templates' escaper serves these pages too (element text and quoted attributes).
import { escapeHtml } from '../../email/templates/html.js';
import { renderSimplePage } from './simple-page.js';

/** Who the page is for: the creator's preview (asks for their key) or a published bot's visitors (no key). */
export type ChatPageMode =
  | { kind: 'preview' }
  | {
      kind: 'public';
      title: string;
      accentColor: string | null;
      welcome: string | null;
      maxChars: number;
      /** Shown inside the widget's panel, whose own bar already carries the title and the close button. */
      embedded?: boolean;
    };

// The preview keeps the creator's key in this browser and sends it with every message.
const previewScript = `
  const tokenKey = 'coach.token';
  const sessionKey = 'coach.session.' + botId;
  let sessionId = localStorage.getItem(sessionKey);
  if (!sessionId || !/^[A-Za-z0-9_-]{1,100}$/.test(sessionId)) {
    sessionId = 'web-' + Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
    localStorage.setItem(sessionKey, sessionId);
  }
  const authForm = $('auth');
  function showAuth(show) {
    authForm.hidden = !show;
    chatForm.hidden = show;
    $('signout').hidden = show;
    if (show) $('token').focus(); else text.focus();
  }
  showAuth(!localStorage.getItem(tokenKey));
  authForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $('token').value.trim();
    if (!value) return;
    localStorage.setItem(tokenKey, value);
    $('token').value = '';
    showAuth(false);
  });
  $('signout').addEventListener('click', () => { localStorage.removeItem(tokenKey); showAuth(true); });
  const botPath = '/v1/bots/' + encodeURIComponent(botId);
  const auth = () => ({ authorization: 'Bearer ' + localStorage.getItem(tokenKey) });
  const post = (message) => fetch(botPath + '/chat', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth() },
    body: JSON.stringify({ sessionId, ...message }),
  });
  const resume = (messageId) => fetch(botPath + '/chat/' + encodeURIComponent(sessionId) + '/messages/' + encodeURIComponent(messageId) + '/reply', { headers: auth() });
  const unauthorized = () => showAuth(true);
  const listen = () => {};
`;

const previewAuthForm = `<form id="auth" hidden>
  <input id="token" type="password" autocomplete="off" placeholder="API key (ck_…) or access token" aria-label="API key or access token">
  <button type="submit">Save</button>
</form>
`;

// Visitors hold nothing but the session cookie the server set (httpOnly: this script never sees it).
const publicScript = `
  const base = '/public/bots/' + encodeURIComponent(botId);
  const welcome = document.querySelector('meta[name="welcome"]');
  if (welcome && welcome.content) bubble('bot', welcome.content);
  const post = (message) => fetch(base + '/messages', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
  });
  const resume = (messageId) => fetch(base + '/messages/' + encodeURIComponent(messageId) + '/reply', { credentials: 'same-origin' });
  const unauthorized = () => {};
  const team = document.querySelector('meta[name="team"]').content;
  const seen = new Set();
  // A message that answered none of the visitor's: the creator's own is signed by the bot's team.
  function coachMessage(m) {
    if (m.id) {
      if (seen.has(m.id)) return;
      seen.add(m.id);
    }
    const answer = bubble('bot', m.text);
    if (m.from === 'person') {
      const by = document.createElement('div');
      by.className = 'by';
      by.textContent = team;
      answer.div.prepend(by);
    }
  }
  const history = async () => {
    const res = await fetch(base + '/history', { credentials: 'same-origin' }).catch(() => null);
    return res && res.ok ? (await res.json()).exchanges : [];
  };
  // Whatever was sent while no stream was open (before it opened, or while it reconnected).
  async function catchUp() {
    for (const x of await history()) if (x.from && x.id && !seen.has(x.id)) coachMessage({ id: x.id, text: x.reply, from: x.from });
  }
  // Messages the visitor did not ask for, once they have a session (the stream answers 404 before).
  let source = null;
  function listen() {
    if (source) return;
    source = new EventSource(base + '/stream', { withCredentials: true });
    source.addEventListener('message', (e) => { try { coachMessage(JSON.parse(e.data)); } catch { /* not ours */ } });
    source.addEventListener('ready', () => { catchUp(); });
    source.addEventListener('error', () => { if (source && source.readyState === EventSource.CLOSED) source = null; });
  }
  // After a reload: the conversation so far, and the reply to a message still being answered.
  window.addEventListener('load', async () => {
    const exchanges = await history();
    if (exchanges.length) listen();
    for (const x of exchanges) {
      if (x.from) { coachMessage({ id: x.id, text: x.reply, from: x.from }); continue; }
      for (const t of x.texts) bubble('user', t);
      if (x.state === 'answered' && x.reply) showSources(bubble('bot', x.reply), x.sources);
      else if (x.state === 'failed') bubble('bot error', 'This message was not answered; please send it again.');
      else if (x.state === 'pending' && x.messageIds.length) {
        busy(true);
        await follow(bubble('bot', '…'), x.messageIds[x.messageIds.length - 1], null).finally(() => busy(false));
      }
    }
  });
  text.focus();
`;

/**
 * The web chat page: one self-contained HTML document (inline CSS and JS, no external assets).
 * In preview it knows only the bot id and talks to the authenticated SSE endpoint; in public mode
 * it shows what the creator published and talks to the visitor endpoints with the session cookie.
 * Scripts and styles run under the response's CSP nonce.
 */
export function renderChatPage(botId: string, nonce: string, mode: ChatPageMode = { kind: 'preview' }): string {
  const id = escapeHtml(botId);
  const n = escapeHtml(nonce);
  const isPublic = mode.kind === 'public';
  const title = escapeHtml(isPublic ? mode.title : 'Coach chat');
  // Validated as #rrggbb when published; escaped all the same.
  const accent = escapeHtml((isPublic && mode.accentColor) || '#2563eb');
  const maxChars = isPublic ? mode.maxChars : 4000;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="bot-id" content="${id}">
${isPublic ? `<meta name="team" content="${title} team">\n` : ''}${isPublic && mode.welcome ? `<meta name="welcome" content="${escapeHtml(mode.welcome)}">\n` : ''}<title>${title}</title>
<style nonce="${n}">
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; --accent: ${accent}; }
  body { margin: 0; display: flex; flex-direction: column; height: 100vh; }
  header { padding: .75rem 1rem; border-bottom: 3px solid var(--accent); display: flex; gap: .5rem; align-items: center; }
  header h1 { font-size: 1rem; margin: 0; flex: 1; }
  #log { flex: 1; overflow-y: auto; padding: 1rem; display: flex; flex-direction: column; gap: .75rem; }
  .msg { max-width: 75ch; padding: .6rem .8rem; border-radius: .6rem; white-space: pre-wrap; line-height: 1.4; }
  .user { align-self: flex-end; background: var(--accent); color: #fff; }
  .bot { align-self: flex-start; background: #8882; }
  .by { font-size: .75rem; font-weight: 600; opacity: .8; margin-bottom: .2rem; }
  .sources { font-size: .8rem; opacity: .75; margin-top: .4rem; }
  .error { color: #dc2626; }
  .buttons { display: flex; flex-wrap: wrap; gap: .5rem; margin-top: .5rem; }
  form { display: flex; gap: .5rem; padding: .75rem 1rem; border-top: 1px solid #8884; }
  input[type=text], input[type=password] { flex: 1; padding: .5rem; font: inherit; }
  button { padding: .5rem 1rem; font: inherit; cursor: pointer; }
  #auth { padding: 1rem; display: flex; gap: .5rem; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
${isPublic && mode.embedded ? '' : `<header><h1>${title}</h1>${isPublic ? '' : '<button id="signout" type="button" hidden>Change key</button>'}</header>
`}${isPublic ? '' : previewAuthForm}<main id="log" aria-live="polite"></main>
<form id="chat">
  <input id="text" type="text" maxlength="${maxChars}" autocomplete="off" placeholder="Ask your coach…" aria-label="Message" required>
  <button id="send" type="submit">Send</button>
</form>
<script nonce="${n}">
(() => {
  const botId = document.querySelector('meta[name="bot-id"]').content;
  const $ = (id) => document.getElementById(id);
  const log = $('log'), chatForm = $('chat'), text = $('text'), send = $('send');
  function bubble(kind, content) {
    const div = document.createElement('div');
    div.className = 'msg ' + kind;
    const body = document.createElement('div');
    body.textContent = content;
    div.appendChild(body);
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return { div, body };
  }

  function showSources(answer, sources) {
    if (!sources || !sources.length) return;
    const s = document.createElement('div');
    s.className = 'sources';
    s.textContent = 'Sources: ' + sources.map((x) => x.title + (x.location ? ' (' + x.location.label + ')' : x.page ? ' (p. ' + x.page + ')' : '')).join('; ');
    answer.div.appendChild(s);
  }
${isPublic ? publicScript : previewScript}
  function parseFrame(frame) {
    let event = 'message';
    const data = [];
    for (const line of frame.split('\\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    try { return { event, data: JSON.parse(data.join('\\n')) }; } catch { return null; }
  }

  function busy(on) {
    send.disabled = on;
    if (!on) text.focus();
  }

  function showButtons(answer, buttons) {
    if (!buttons || !buttons.length) return;
    const row = document.createElement('div');
    row.className = 'buttons';
    for (const b of buttons) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = b.title;
      button.addEventListener('click', () => {
        if (send.disabled) return;
        for (const other of row.querySelectorAll('button')) other.disabled = true;
        ask({ button: b.id }, b.title);
      });
      row.appendChild(button);
    }
    answer.div.appendChild(row);
  }

  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  // crypto.randomUUID needs a secure context; a chat opened over plain http on a LAN address has none.
  const newMessageId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

  /**
   * Shows one message's reply as it comes: from the response to sending it, or after a dropped
   * connection from the reply endpoint (and sent again if it never arrived). The draft is redrawn
   * from each piece's offset, so a piece seen twice or missed never garbles it.
   */
  async function follow(answer, messageId, message) {
    let received = '';
    const again = () => post({ messageId, ...message });
    let request = message ? again : () => resume(messageId);
    let resent = false;
    for (let attempt = 0; attempt < 6; attempt++) {
      if (attempt > 0) await wait(500 * 2 ** attempt);
      let res;
      try { res = await request(); } catch { request = () => resume(messageId); continue; }
      if (!res.ok || !res.body) {
        const body = await res.json().catch(() => null);
        if (res.status === 401) unauthorized();
        answer.body.textContent = received;
        return showError(answer, (body && body.error && body.error.message) || 'Request failed (' + res.status + ')');
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      let resend = false;
      try {
        stream: for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\\r\\n/g, '\\n');
          let end;
          while ((end = buffer.indexOf('\\n\\n')) >= 0) {
            const frame = parseFrame(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (!frame) continue;
            if (frame.event === 'token') {
              const { offset, text: piece } = frame.data;
              if (offset === 0 || offset === received.length) received = received.slice(0, offset) + piece;
              else if (offset < received.length && offset + piece.length > received.length) received = received.slice(0, offset) + piece;
              answer.body.textContent = received;
            } else if (frame.event === 'done') {
              if (frame.data.reply === null) { answer.div.remove(); return; }
              answer.body.textContent = frame.data.reply;
              showSources(answer, frame.data.sources);
              showButtons(answer, frame.data.buttons);
              log.scrollTop = log.scrollHeight;
              return;
            } else if (frame.event === 'error') {
              // Never stored (the first request did not arrive): send it again, once.
              if (frame.data.code === 'NOT_FOUND' && message && !resent) { resend = resent = true; break stream; }
              answer.body.textContent = received;
              return showError(answer, frame.data.message || 'Something went wrong');
            }
            log.scrollTop = log.scrollHeight;
          }
        }
      } catch { /* the connection dropped: follow the reply again */ }
      request = resend ? again : () => resume(messageId);
    }
    answer.body.textContent = received;
    showError(answer, 'The connection was lost. Reload the page to see the reply.');
  }

  function showError(answer, message) {
    const p = document.createElement('div');
    p.className = 'error';
    p.textContent = message;
    answer.div.appendChild(p);
  }

  async function ask(message, label) {
    bubble('user', label);
    busy(true);
    try { await follow(bubble('bot', '…'), newMessageId(), message); }
    finally { busy(false); listen(); }
  }

  chatForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const question = text.value.trim();
    if (!question || send.disabled) return;
    text.value = '';
    ask({ text: question }, question);
  });
})();
</script>
</body>
</html>
`;
}

/** The page at a chat address whose bot is unknown or no longer published. */
export function renderChatNotFoundPage(nonce: string): string {
  return renderSimplePage({
    title: 'Chat not found',
    nonce,
    style: '  main { max-width: 40rem; margin: 4rem auto; padding: 0 1rem; }',
    body: `<h1>This chat is not available</h1>
<p>There is no public chat at this address. It may have been taken down by its owner, or the link may be mistyped.</p>`,
  });
}
