/**
 * Entry point of a worker in its own process, for tests that kill it (SIGKILL) mid-turn: the
 * platform from the environment with ROLE=worker. Prints `ready` once its workers run.
 */
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { createPlatform } from '../../src/platform.js';

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
