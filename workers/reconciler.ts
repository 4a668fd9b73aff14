import type { Logger } from '../src/observability/logger.js';
import { startPeriodic } from './periodic.js';

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
  return startPeriodic({
    name: 'reconciler',
    intervalMs: options.intervalMs,
    logger: options.logger,
    async pass() {
      const added = await options.service.run();
      if (added > 0) options.logger.info({ added }, 'reconciler: re-enqueued unanswered messages');
    },
  });
}
