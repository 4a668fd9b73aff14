import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// Node 20 has no global WebSocket; undici (already a dependency) ships the same client.
import { WebSocket } from 'undici';

export const CHROMIUM = '/usr/bin/chromium';

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

/** One tab of the browser, driven over the DevTools protocol. */
export interface BrowserTab {
  /** Evaluates an expression in the page and returns its (JSON) value. */
  evaluate<T>(expression: string): Promise<T>;
  reload(): Promise<void>;
  /** Sends any DevTools protocol command to this tab (frames, accessibility tree, input, emulation). */
  cdp<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Evaluates an expression in one frame of the page (in an isolated world: same DOM, own globals). */
  evaluateInFrame<T>(frameId: string, expression: string): Promise<T>;
  /** Every request the tab sent so far: its URL and headers. */
  requests: Array<{ url: string; headers: Record<string, string> }>;
}

/** A headless Debian Chromium with a fresh profile, driven over the DevTools protocol (no Playwright download needed). */
export class Chromium {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: Record<string, unknown>): void; reject(err: Error): void }>();
  private readonly listeners: Array<(message: CdpMessage) => void> = [];

  private constructor(
    private readonly process: ChildProcess,
    private readonly socket: WebSocket,
    private readonly profile: string,
  ) {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as CdpMessage;
      if (message.id !== undefined) {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(message.error.message));
        else waiter?.resolve(message.result ?? {});
      } else {
        for (const listener of this.listeners) listener(message);
      }
    });
  }

  /** Starts the browser and connects to it. */
  static async launch(): Promise<Chromium> {
    const profile = mkdtempSync(path.join(tmpdir(), 'coach-chromium-'));
    const child = spawn(
      CHROMIUM,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const endpoint = await new Promise<string>((resolve, reject) => {
      let seen = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        seen += chunk.toString('utf8');
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`chromium exited (${code}) before listening: ${seen.slice(-500)}`)));
    });
    const socket = new WebSocket(endpoint);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve());
      socket.addEventListener('error', () => reject(new Error('could not connect to chromium')));
    });
    return new Chromium(child, socket, profile);
  }

  private send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  /** Opens `url` in a new tab of the same profile (cookies shared, as between a user's tabs). */
  async open(url: string): Promise<BrowserTab> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const requests: BrowserTab['requests'] = [];
    this.listeners.push((message) => {
      if (message.sessionId !== sessionId || message.method !== 'Network.requestWillBeSent') return;
      const request = (message.params as { request: { url: string; headers: Record<string, string> } }).request;
      requests.push({ url: request.url, headers: request.headers });
    });
    await this.send('Network.enable', {}, sessionId);
    await this.send('Page.enable', {}, sessionId);
    await this.send('Page.navigate', { url }, sessionId);
    const evaluateIn = async <T>(expression: string, contextId?: number) => {
      const { result, exceptionDetails } = (await this.send(
        'Runtime.evaluate',
        { expression, returnByValue: true, awaitPromise: true, ...(contextId === undefined ? {} : { contextId }) },
        sessionId,
      )) as {
        result: { value: T };
        exceptionDetails?: { text: string };
      };
      if (exceptionDetails) throw new Error(`page threw: ${exceptionDetails.text}`);
      return result.value;
    };
    return {
      requests,
      evaluate: (expression) => evaluateIn(expression),
      cdp: async <T>(method: string, params: Record<string, unknown> = {}) => (await this.send(method, params, sessionId)) as T,
      evaluateInFrame: async <T>(frameId: string, expression: string) => {
        // A fresh world each time: the frame may have navigated since the last one.
        const { executionContextId } = (await this.send('Page.createIsolatedWorld', { frameId, worldName: 'test' }, sessionId)) as { executionContextId: number };
        return evaluateIn<T>(expression, executionContextId);
      },
      reload: async () => {
        await this.send('Page.reload', {}, sessionId);
      },
    };
  }

  /** Closes the browser and removes its profile. */
  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    // Asked to close, the browser stops its helper processes and finishes writing its profile first;
    // a signal alone can leave them writing into the directory being removed.
    await Promise.race([this.send('Browser.close').catch(() => this.process.kill('SIGTERM')), exited]);
    await exited;
    this.socket.close();
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 5 });
  }
}
