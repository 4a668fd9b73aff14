// The email templates' escaper serves these pages too (element text and quoted attributes).
import { escapeHtml } from '../../email/templates/html.js';
import { renderSimplePage } from './simple-page.js';

/**
 * The few pages emailed links open: confirm an address, choose a new password, unsubscribe. Each
 * is one self-contained HTML document; account tokens travel in the URL fragment, which browsers
 * never send to a server, and are posted to the JSON API by the page's script.
 */


const ACCOUNT_STYLE = `  main { max-width: 28rem; margin: 4rem auto; padding: 0 1rem; }
  label, input, button { display: block; width: 100%; box-sizing: border-box; font: inherit; }
  input { margin: .25rem 0 1rem; padding: .5rem; }
  button { padding: .6rem; background: #2f6f4f; color: #fff; border: 0; border-radius: .4rem; cursor: pointer; }
  .error { color: #b91c1c; }`;

function page(title: string, nonce: string, body: string, script = ''): string {
  return renderSimplePage({ title, nonce, style: ACCOUNT_STYLE, body: `<h1>${escapeHtml(title)}</h1>\n${body}`, script });
}

// Shared by the account pages: the token from `#token=…`, and the API's error message.
const helpers = `
const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
history.replaceState(null, '', location.pathname);
const status = document.getElementById('status');
async function post(url, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.ok) return null;
  const problem = await response.json().catch(() => null);
  return (problem && problem.error && problem.error.message) || 'Something went wrong; try again.';
}
function show(text, isError) { status.textContent = text; status.className = isError ? 'error' : ''; }
`;

/** Confirms the address as soon as it opens (scanners that prefetch links run no scripts). */
export function renderVerifyEmailPage(nonce: string): string {
  return page(
    'Confirm your email',
    nonce,
    `<p id="status">Confirming your address…</p>`,
    `${helpers}
if (!token) show('This link is incomplete; open it from the email again.', true);
else post('/v1/auth/verify-email', { token }).then((error) => show(error || 'Thank you: your email address is confirmed.', Boolean(error)));`,
  );
}

/** Asks for a new password and sets it with the link's token. */
export function renderResetPasswordPage(nonce: string): string {
  return page(
    'Choose a new password',
    nonce,
    `<form id="form">
<label for="password">New password (at least 10 characters)</label>
<input id="password" type="password" autocomplete="new-password" minlength="10" maxlength="1024" required>
<label for="again">The same again</label>
<input id="again" type="password" autocomplete="new-password" minlength="10" maxlength="1024" required>
<button type="submit">Set password</button>
</form>
<p id="status"></p>`,
    `${helpers}
const form = document.getElementById('form');
if (!token) { form.hidden = true; show('This link is incomplete; open it from the email again.', true); }
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const password = document.getElementById('password').value;
  if (password !== document.getElementById('again').value) return show('The two passwords differ.', true);
  const error = await post('/v1/auth/password-reset/confirm', { token, password });
  if (error) return show(error, true);
  form.hidden = true;
  show('Your password is changed. Every session was signed out: log in with the new password.', false);
});`,
  );
}

/** A confirmation button, so a link scanner's GET unsubscribes no one; the form posts back here. */
export function renderUnsubscribePage(nonce: string, token: string): string {
  return page(
    'Unsubscribe',
    nonce,
    `<p>Stop receiving the weekly digest? Emails about your account and billing still reach you.</p>
<form method="post" action="/email/unsubscribe?token=${escapeHtml(encodeURIComponent(token))}">
<button type="submit">Unsubscribe</button>
</form>`,
  );
}

/** Shown after unsubscribing. */
export function renderUnsubscribedPage(nonce: string, email: string): string {
  return page('Unsubscribed', nonce, `<p>${escapeHtml(email)} will no longer receive the weekly digest.</p>`);
}
