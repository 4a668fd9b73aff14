import type { Logger } from '../src/observability/logger.js';

export interface ReconcilerOptions {
  service: { run(): Promise<number> };
  intervalMs: number;
  logger: Pick<Logger, 'info' | 'warn'>;
}

/**
 * Runs the reconciler now and then every `intervalMs` in a worker process. Every worker runs it;
 * job ids make the passes idempotent, so overlapping runs across processes are harmless.
 */
export function startReconciler(options: ReconcilerOptions): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = options.service
      .run()
      .then((added) => {
        if (added > 0) options.logger.info({ added }, 'reconciler: re-enqueued unanswered messages');
      })
      .catch((err: unknown) => options.logger.warn({ err }, 'reconciler: pass failed; trying again next interval'))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  tick();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
