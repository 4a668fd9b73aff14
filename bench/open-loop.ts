/** What an open-loop run saw: requests sent, latencies of the answered ones (ms), failures, duration. */
export interface OpenLoopRun {
  offered: number;
  latencies: number[];
  errors: number;
  elapsedMs: number;
}

/**
 * Sends at `rate` per second whatever the answers do, while `keepGoing(elapsedMs, sent)` holds
 * (checked each millisecond); `send` resolves to whether a request was answered well. Latency counts
 * from when each request was due, so a stalled server cannot hide its queue (no coordinated omission).
 */
export async function openLoop(
  rate: number,
  send: (chatId: number) => Promise<boolean>,
  keepGoing: (elapsedMs: number, sent: number) => boolean,
  atMost = Number.POSITIVE_INFINITY,
): Promise<OpenLoopRun> {
  const latencies: number[] = [];
  let errors = 0;
  const inflight = new Set<Promise<void>>();
  const started = performance.now();
  let sent = 0;
  while (keepGoing(performance.now() - started, sent)) {
    const due = Math.min(atMost, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
    while (sent < due) {
      const scheduled = started + (sent * 1000) / rate;
      const chat = 200_000 + (sent % 5000);
      sent++;
      const request: Promise<void> = send(chat)
        .catch(() => false)
        .then((ok) => {
          if (ok) latencies.push(performance.now() - scheduled);
          else errors++;
          inflight.delete(request);
        });
      inflight.add(request);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inflight);
  return { offered: sent, latencies, errors, elapsedMs: performance.now() - started };
}
