/**
 * Entry point of a worker in its own process, for tests that kill it (SIGKILL) mid-turn: the
 * platform from the environment with ROLE=worker. Prints `ready` once its workers run.
 */

// The test that started this process holds its stdin open: when that process dies, however it
// dies, the pipe closes and this worker goes too instead of running on unseen. Set before the
// platform's modules load (seconds under tsx), hence the dynamic imports below.
process.stdin.once('end', () => process.exit(1));
process.stdin.once('close', () => process.exit(1));
process.stdin.resume();

const { loadConfig } = await import('../../src/config.js');
const { createLogger } = await import('../../src/observability/logger.js');
const { createPlatform } = await import('../../src/platform.js');

const config = loadConfig({ ...process.env, ROLE: 'worker' });
const platform = await createPlatform(config, createLogger(config.LOG_LEVEL));
platform.startWorkers();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  platform.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
