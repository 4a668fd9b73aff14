import type { Logger } from '../src/observability/logger.js';
import { startPeriodic } from './periodic.js';

export interface ReconcilerOptions {
  service: { run(): Promise<number> };
  /** This process's workers: replaced when they stopped fetching while jobs were ready. */
  workers?: { reviveIdleWorkers(): Promise<string[]> };
  intervalMs: number;
  logger: Pick<Logger, 'info' | 'warn'>;
}

/**
 * Runs the reconciler now and then every `intervalMs` in a worker process. Every worker runs it;
 * job ids make the passes idempotent, so overlapping runs across processes are harmless. Each pass
 * also checks this process's workers, so a worker that stopped fetching is replaced.
 */
export function startReconciler(options: ReconcilerOptions): { stop(): Promise<void> } {
  return startPeriodic({
    name: 'reconciler',
    intervalMs: options.intervalMs,
    logger: options.logger,
    async pass() {
      const recreated = await options.service.run();
      if (recreated > 0) options.logger.info({ recreated }, 'reconciler: re-created the jobs of unanswered messages');
      const revived = (await options.workers?.reviveIdleWorkers()) ?? [];
      if (revived.length > 0) {
        options.logger.warn({ queues: revived }, 'reconciler: restarted workers that had stopped taking jobs while jobs were waiting');
      }
    },
  });
}
