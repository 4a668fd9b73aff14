import { createServer } from 'node:net';

// Below Linux's ephemeral range (32768–60999): the port is free between this check and the listen
// that follows, however many outgoing connections the suite opens meanwhile (those take ephemeral
// ports, and a port the kernel handed out for listen(0) is one of them).
const FIRST = 20_000;
const COUNT = 12_000;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port nothing listens on, for a server that must know its address before it starts (PUBLIC_URL, `chroma run --port`). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = FIRST + Math.floor(Math.random() * COUNT);
    if (await canListen(port)) return port;
  }
}
