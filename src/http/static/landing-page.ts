import { escapeHtml } from '../../email/templates/html.js';
import { renderSimplePage } from './simple-page.js';

/**
 * The page at `/`: what this server is and where to go next — the API documentation, the demo
 * coach's chat while the demo exists, and the health check. Self-contained, styled under the nonce.
 */
export function renderLandingPage(options: { demoChatPath: string | null; nonce: string }): string {
  const demo = options.demoChatPath
    ? `<li><a href="${escapeHtml(options.demoChatPath)}">Chat with the demo coach</a> — answers from the example coaching guide</li>`
    : '';
  return renderSimplePage({
    title: 'Coaching assistant platform',
    nonce: options.nonce,
    style: `  main { max-width: 40rem; margin: 0 auto; padding: 2rem 1.25rem; }
  h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
  ul { padding-left: 1.2rem; }
  li { margin: .4rem 0; }
  a { color: #2563eb; }
  code { font-size: .9em; }`,
    body: `<h1>Coaching assistant platform</h1>
<p>This server turns creators’ material into AI coaches that answer on Telegram, WhatsApp and the web, grounded in that material.</p>
<ul>
  <li><a href="/app">Open the creators’ dashboard</a> — sign up or sign in, build a bot from your material, try it, publish it and read its conversations</li>
  ${demo}
  <li><a href="/docs">API documentation</a> — sign up, create a bot, upload documents and connect channels; every call can be tried there</li>
  <li><a href="/healthz">Health check</a> · <a href="/readyz">readiness</a></li>
</ul>
<p>Scripts start with <code>POST /v1/auth/signup</code>, then <code>POST /v1/bots</code>.</p>`,
  });
}
