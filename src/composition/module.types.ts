/**
 * What a feature module may offer the composition root (src/platform.ts) besides its services.
 * The root starts workers in build order and shuts down in two passes, each in reverse build order:
 * every `drain` (the app stops answering, schedules stop queuing, the queue workers finish), then
 * every `stop` (reading processes, locks, stores, and the database last).
 */
export interface ModuleLifecycle {
  /** Starts this module's queue workers and schedules in this process (ROLE=worker or all). */
  startWorkers?(): void;
  /** Stops taking new work and lets what is under way finish. */
  drain?(): Promise<void>;
  /** Releases what the module holds, once nothing runs any more. */
  stop?(): Promise<void>;
}
