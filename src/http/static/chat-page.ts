// The email templates' escaper serves these pages too (element text and quoted attributes).
import { escapeHtml } from '../../email/templates/html.js';

/**
 * The web chat page: one self-contained HTML document (inline CSS and JS, no external assets).
 * It knows only the bot id; everything else comes from the authenticated SSE endpoint.
 * Scripts and styles run under the response's CSP nonce.
 */
export function renderChatPage(botId: string, nonce: string): string {
  const id = escapeHtml(botId);
  const n = escapeHtml(nonce);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="bot-id" content="${id}">
<title>Coach chat</title>
<style nonce="${n}">
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; display: flex; flex-direction: column; height: 100vh; }
  header { padding: .75rem 1rem; border-bottom: 1px solid #8884; display: flex; gap: .5rem; align-items: center; }
  header h1 { font-size: 1rem; margin: 0; flex: 1; }
  #log { flex: 1; overflow-y: auto; padding: 1rem; display: flex; flex-direction: column; gap: .75rem; }
  .msg { max-width: 75ch; padding: .6rem .8rem; border-radius: .6rem; white-space: pre-wrap; line-height: 1.4; }
  .user { align-self: flex-end; background: #2563eb; color: #fff; }
  .bot { align-self: flex-start; background: #8882; }
  .sources { font-size: .8rem; opacity: .75; margin-top: .4rem; }
  .error { color: #dc2626; }
  form { display: flex; gap: .5rem; padding: .75rem 1rem; border-top: 1px solid #8884; }
  input[type=text], input[type=password] { flex: 1; padding: .5rem; font: inherit; }
  button { padding: .5rem 1rem; font: inherit; cursor: pointer; }
  #auth { padding: 1rem; display: flex; gap: .5rem; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header><h1>Coach chat</h1><button id="signout" type="button" hidden>Change key</button></header>
<form id="auth" hidden>
  <input id="token" type="password" autocomplete="off" placeholder="API key (ck_…) or access token" aria-label="API key or access token">
  <button type="submit">Save</button>
</form>
<main id="log" aria-live="polite"></main>
<form id="chat">
  <input id="text" type="text" maxlength="4000" autocomplete="off" placeholder="Ask your coach…" aria-label="Message" required>
  <button id="send" type="submit">Send</button>
</form>
<script nonce="${n}">
(() => {
  const botId = document.querySelector('meta[name="bot-id"]').content;
  const tokenKey = 'coach.token';
  const sessionKey = 'coach.session.' + botId;
  const $ = (id) => document.getElementById(id);
  const log = $('log'), authForm = $('auth'), chatForm = $('chat'), text = $('text'), send = $('send');

  let sessionId = localStorage.getItem(sessionKey);
  if (!sessionId || !/^[A-Za-z0-9_-]{1,100}$/.test(sessionId)) {
    sessionId = 'web-' + Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
    localStorage.setItem(sessionKey, sessionId);
  }

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

  function parseFrame(frame) {
    let event = 'message';
    const data = [];
    for (const line of frame.split('\\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    try { return { event, data: JSON.parse(data.join('\\n')) }; } catch { return null; }
  }

  async function ask(question) {
    bubble('user', question);
    const answer = bubble('bot', '…');
    let received = '';
    const fail = (message) => {
      answer.body.textContent = received || '';
      const p = document.createElement('div');
      p.className = 'error';
      p.textContent = message;
      answer.div.appendChild(p);
    };
    const res = await fetch('/v1/bots/' + encodeURIComponent(botId) + '/chat', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + localStorage.getItem(tokenKey) },
      body: JSON.stringify({ sessionId, text: question }),
    });
    if (!res.ok || !res.body) {
      const body = await res.json().catch(() => null);
      if (res.status === 401) showAuth(true);
      return fail((body && body.error && body.error.message) || 'Request failed (' + res.status + ')');
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\\r\\n/g, '\\n');
      let end;
      while ((end = buffer.indexOf('\\n\\n')) >= 0) {
        const frame = parseFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (!frame) continue;
        if (frame.event === 'token') {
          received += frame.data.text;
          answer.body.textContent = received;
        } else if (frame.event === 'done') {
          answer.body.textContent = frame.data.reply;
          if (frame.data.sources && frame.data.sources.length) {
            const s = document.createElement('div');
            s.className = 'sources';
            s.textContent = 'Sources: ' + frame.data.sources.map((x) => x.title + (x.page ? ' (p. ' + x.page + ')' : '')).join('; ');
            answer.div.appendChild(s);
          }
        } else if (frame.event === 'error') {
          fail(frame.data.message || 'Something went wrong');
        }
        log.scrollTop = log.scrollHeight;
      }
    }
  }

  chatForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const question = text.value.trim();
    if (!question) return;
    text.value = '';
    send.disabled = true;
    try { await ask(question); } catch (err) { bubble('bot error', 'Connection failed: ' + err.message); }
    finally { send.disabled = false; text.focus(); }
  });
})();
</script>
</body>
</html>
`;
}
