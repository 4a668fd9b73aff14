import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './observability/logger.js';
import { describeAnswerMode } from './llm/llm-provider.js';
import { createPlatform, demoSeedDeps } from './platform.js';
import { seedDemo } from './demo/seed-demo.js';

/** Starts API and/or workers by ROLE and stops them cleanly on SIGINT/SIGTERM. */
export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const platform = await createPlatform(config, logger);
  if (config.ROLE !== 'api') platform.startWorkers();
  if (config.ROLE !== 'worker') await platform.app.listen({ host: config.HOST, port: config.PORT });
  logger.info(
    { role: config.ROLE, database: platform.infrastructure.database.kind, queues: platform.infrastructure.queues.backend, vectorStore: config.VECTOR_STORE },
    `coaching platform started${config.ROLE !== 'worker' ? ` on http://localhost:${config.PORT}` : ''}`,
  );
  logger.info(describeAnswerMode({ provider: config.LLM_PROVIDER, host: config.OLLAMA_HOST, defaultModel: config.OLLAMA_CHAT_MODEL }));
  if (config.SEED_DEMO && config.ROLE !== 'worker') {
    // A failed demo must not take the platform down; it only costs the first-run shortcut.
    await seedDemo(
      demoSeedDeps(platform, { logger, print: (text) => console.log(text) }),
      { baseUrl: `http://localhost:${config.PORT}`, showCredentials: config.NODE_ENV === 'development' },
    ).catch((err: unknown) => logger.warn({ err }, 'demo seed failed'));
  }

  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down: draining workers and closing connections');
      platform
        .close()
        .then(() => process.exit(0))
        .catch((err) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        });
    });
  }
}

// `node dist/src/main.js` (the Docker image) and `tsx src/main.ts` run it directly; `npm start` through scripts/start.mjs.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
