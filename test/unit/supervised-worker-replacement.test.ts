/**
 * A supervised worker that reports a lost database connection is closed and replaced after a pause
 * that grows while failures go on and starts small again once a job finishes. BullMQ's Worker is
 * stood in for by an emitter with its `close`, since only its events and closing matter here.
 */
import { EventEmitter } from 'node:events';
import type { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SupervisedWorker } from '../../src/jobs/supervised-worker.js';

class StandInWorker extends EventEmitter {
  closed: boolean | undefined;
  async close(force = false): Promise<void> {
    this.closed = force;
  }
}

function connectionLost(): Error {
  return Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
}

function supervise() {
  const workers: StandInWorker[] = [];
  const reported: Error[] = [];
  const supervisor = new SupervisedWorker(
    () => {
      const worker = new StandInWorker();
      workers.push(worker);
      return worker as unknown as Worker;
    },
    async () => undefined,
    1,
    (err) => reported.push(err),
  );
  return { supervisor, workers, reported, current: () => workers.at(-1)! };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SupervisedWorker replacing a worker that lost its connection', () => {
  it('closes it, starts a fresh one after a pause that doubles, and starts small again after a finished job', async () => {
    const { supervisor, workers, reported, current } = supervise();

    current().emit('error', connectionLost());
    expect(workers[0]!.closed).toBe(true);
    expect(reported).toHaveLength(1);
    // The first pause is 250–500 ms (jittered over the upper half of 500 ms).
    await vi.advanceTimersByTimeAsync(249);
    expect(workers).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(251);
    expect(workers).toHaveLength(2);

    current().emit('error', connectionLost());
    // The second is 500–1,000 ms.
    await vi.advanceTimersByTimeAsync(499);
    expect(workers).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(501);
    expect(workers).toHaveLength(3);

    current().emit('completed');
    current().emit('error', connectionLost());
    await vi.advanceTimersByTimeAsync(500);
    expect(workers).toHaveLength(4);
    await supervisor.close();
  });

  it('leaves a worker in place on an error that is not a lost connection, and ignores one already replaced', async () => {
    const { supervisor, workers, current } = supervise();
    current().emit('error', new Error('job data could not be parsed'));
    await vi.advanceTimersByTimeAsync(20_000);
    expect(workers).toHaveLength(1);

    const first = current();
    first.emit('error', connectionLost());
    await vi.advanceTimersByTimeAsync(500);
    expect(workers).toHaveLength(2);
    first.emit('error', connectionLost());
    await vi.advanceTimersByTimeAsync(20_000);
    expect(workers).toHaveLength(2);
    await supervisor.close();
  });
});
