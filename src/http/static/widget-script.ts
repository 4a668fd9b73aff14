/**
 * The embeddable widget served at `/widget.js`: the same bytes for every bot and site (it holds no
 * bot, key or setting), so it can be cached. It reads its own tag's `data-bot`, asks the platform
 * whether this site may show that bot's chat, and only then adds a launcher inside a shadow root
 * (the host page's CSS cannot reach it) that opens the public chat page in an iframe. The server
 * decides: the settings endpoint refuses other sites, and the chat page may be framed only by the
 * bot's allowed origins. The tag's `data-coach-widget` tells the host page how it went
 * (`ready` or `refused`).
 */
export const WIDGET_SCRIPT = `(() => {
  'use strict';
  const script = document.currentScript || document.querySelector('script[data-bot][src*="/widget.js"]:not([data-coach-widget])');
  if (!script || script.dataset.coachWidget) return;
  script.dataset.coachWidget = 'loading';
  const botId = script.dataset.bot || '';
  const base = new URL(script.src, document.baseURI).origin;
  const botPath = encodeURIComponent(botId);

  fetch(base + '/public/bots/' + botPath + '/widget', { credentials: 'omit' })
    .then((res) => {
      if (!res.ok) throw new Error('answered ' + res.status);
      return res.json();
    })
    .then((config) => {
      const mount = () => { mountLauncher(config); script.dataset.coachWidget = 'ready'; };
      if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount, { once: true });
    })
    .catch((err) => {
      script.dataset.coachWidget = 'refused';
      console.warn('Coach chat widget: this site may not show this chat (' + err.message + ')');
    });

  function mountLauncher(config) {
    const title = typeof config.title === 'string' && config.title ? config.title : 'Chat';
    const accent = /^#[0-9a-fA-F]{6}$/.test(config.accentColor || '') ? config.accentColor : '#2563eb';
    const host = document.createElement('div');
    host.setAttribute('data-coach-widget-host', '');
    const root = host.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = [
      ':host { all: initial; }',
      '* { box-sizing: border-box; font-family: system-ui, sans-serif; }',
      '.launcher { position: fixed; right: 1rem; bottom: 1rem; z-index: 2147483647; width: 3.5rem; height: 3.5rem; border-radius: 50%;',
      '  border: 0; background: ' + accent + '; color: #fff; cursor: pointer; box-shadow: 0 4px 14px #0004; display: grid; place-items: center; padding: 0; }',
      '.launcher svg { width: 1.6rem; height: 1.6rem; fill: currentColor; }',
      '.launcher:focus-visible, .close:focus-visible { outline: 3px solid ' + accent + '; outline-offset: 3px; }',
      '.panel { position: fixed; right: 1rem; bottom: 5.5rem; z-index: 2147483647; width: min(400px, calc(100vw - 2rem));',
      '  height: min(640px, calc(100vh - 7rem)); display: flex; flex-direction: column; background: #fff; color: #111;',
      '  border-radius: .75rem; overflow: hidden; box-shadow: 0 8px 30px #0005; }',
      '.panel[hidden] { display: none; }',
      '.bar { display: flex; align-items: center; gap: .5rem; padding: .4rem .5rem .4rem .9rem; background: ' + accent + '; color: #fff; }',
      '.bar span { flex: 1; font-size: .95rem; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }',
      '.close { border: 0; background: transparent; color: inherit; font-size: 1.5rem; line-height: 1; width: 2.75rem; height: 2.75rem; cursor: pointer; }',
      'iframe { flex: 1; width: 100%; border: 0; background: #fff; }',
      // Phones: the chat takes the whole screen, and the close button stays within reach.
      '@media (max-width: 480px) { .panel { inset: 0; width: 100%; height: 100%; border-radius: 0; } }',
    ].join('\\n');
    const launcher = document.createElement('button');
    launcher.type = 'button';
    launcher.className = 'launcher';
    launcher.setAttribute('aria-label', 'Open chat with ' + title);
    launcher.setAttribute('aria-expanded', 'false');
    launcher.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z"/></svg>';
    const panel = document.createElement('div');
    panel.className = 'panel';
    panel.hidden = true;
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', title);
    const bar = document.createElement('div');
    bar.className = 'bar';
    const name = document.createElement('span');
    name.textContent = title;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'close';
    close.setAttribute('aria-label', 'Close chat');
    close.textContent = '\\u00d7';
    bar.append(name, close);
    panel.append(bar);
    let frame = null;
    const setOpen = (open) => {
      if (open && !frame) {
        // Loaded on first open only: a page view alone costs the platform nothing.
        frame = document.createElement('iframe');
        frame.title = title;
        frame.src = base + '/c/' + botPath + '?embed=1';
        panel.append(frame);
      }
      panel.hidden = !open;
      launcher.setAttribute('aria-expanded', String(open));
      if (open) frame.focus(); else launcher.focus();
    };
    launcher.addEventListener('click', () => setOpen(panel.hidden));
    close.addEventListener('click', () => setOpen(false));
    root.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !panel.hidden) setOpen(false); });
    root.append(style, launcher, panel);
    document.body.append(host);
  }
})();
`;
