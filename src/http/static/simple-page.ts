import { escapeHtml } from '../../email/templates/html.js';

/**
 * One small self-contained page of ours (landing, not-found, account links): its head, the shared
 * base style plus `style`, the `body` inside <main>, and an optional inline script, all under the nonce.
 */
export function renderSimplePage(options: { title: string; nonce: string; style: string; body: string; script?: string }): string {
  const n = escapeHtml(options.nonce);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(options.title)}</title>
<style nonce="${n}">
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
${options.style}
</style>
</head>
<body>
<main>
${options.body}
</main>
${options.script ? `<script nonce="${n}">${options.script}</script>` : ''}
</body>
</html>
`;
}
