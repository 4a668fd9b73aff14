import type { Logger } from '../src/observability/logger.js';

export interface PeriodicTask {
  /** Log prefix, e.g. "reconciler". */
  name: string;
  /** One pass; never runs twice at once, and a failure waits for the next interval. */
  pass(): Promise<void>;
  intervalMs: number;
  logger: Pick<Logger, 'warn'>;
}

/**
 * Runs a housekeeping pass now and then every `intervalMs` in a worker process. Every worker
 * process runs its own; the passes are idempotent (job ids, dedupe keys), so overlaps are harmless.
 */
export function startPeriodic(task: PeriodicTask): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = task
      .pass()
      .catch((err: unknown) => task.logger.warn({ err }, `${task.name}: pass failed; trying again next interval`))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, task.intervalMs);
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
