/**
 * A pass-through in front of a fake Ollama that holds every `/api/chat` request until `release()`,
 * so a test can act (kill a worker, say) while a turn is known to be waiting for the model.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface GatedOllama {
  readonly url: string;
  /** Requests held since the gate started (chat, unless told otherwise). */
  readonly held: number;
  /** Resolves once `count` chat requests are being held. */
  waitForHeld(count: number, timeoutMs?: number): Promise<void>;
  /** Opens the gate: held and later chat requests go through. */
  release(): void;
  close(): Promise<void>;
}

async function readAll(request: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

export interface GateOptions {
  /** Requests to this path are held (chat by default). */
  holdPath?: string;
  /** Only requests for this model are held (e.g. one embedding model of two); any model when unset. */
  holdModel?: string;
  /** This many matching requests pass before the gate starts holding. Default 0. */
  passFirst?: number;
}

/** Starts the gate (closed) in front of `upstream`; it holds requests to `holdPath` (chat by default). */
export async function startGatedOllama(upstream: string, { holdPath = '/api/chat', holdModel, passFirst = 0 }: GateOptions = {}): Promise<GatedOllama> {
  let passes = passFirst;
  const matches = (path: string, body: Buffer) => {
    if (!path.startsWith(holdPath)) return false;
    if (holdModel === undefined) return true;
    try {
      const model = String((JSON.parse(body.toString('utf8')) as { model?: unknown }).model ?? '');
      return model === holdModel || model === `${holdModel}:latest`;
    } catch {
      return false;
    }
  };
  let open = false;
  let held = 0;
  const waiting: Array<() => void> = [];
  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readAll(request);
      const path = request.url ?? '/';
      if (matches(path, body) && !open && passes-- <= 0) {
        held += 1;
        events.emit('held');
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      // The client (a killed worker) may be gone by now.
      if (request.socket.destroyed) return;
      const answer = await fetch(`${upstream}${path}`, {
        method: request.method ?? 'GET',
        headers: { 'content-type': request.headers['content-type'] ?? 'application/json' },
        ...(body.length ? { body: new Uint8Array(body) } : {}),
      });
      response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      const reader = answer.body?.getReader();
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) break;
        response.write(chunk.value);
      }
      response.end();
    })().catch(() => response.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const release = () => {
    open = true;
    for (const resolve of waiting.splice(0)) resolve();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    get held() {
      return held;
    },
    waitForHeld(count, timeoutMs = 30_000) {
      if (held >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          events.off('held', onHeld);
          reject(new Error(`Timed out waiting for ${count} held request(s); saw ${held}`));
        }, timeoutMs);
        const onHeld = () => {
          if (held < count) return;
          clearTimeout(timer);
          events.off('held', onHeld);
          resolve();
        };
        events.on('held', onHeld);
      });
    },
    release,
    async close() {
      release();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
