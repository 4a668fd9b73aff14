import type { DemoSeedDeps } from '../../src/demo/seed-demo.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import type { TestPlatform } from './test-platform.js';

/** What the first-run demo needs from a test platform, as src/main.ts hands it over. */
export function demoSeedDeps(platform: TestPlatform, options: { logger?: Logger; print?: (text: string) => void } = {}): DemoSeedDeps {
  return {
    hasCreators: () => platform.accounts.hasCreators(),
    auth: platform.accounts.auth,
    apiKeys: platform.accounts.apiKeys,
    bots: platform.bots.service,
    documents: platform.knowledge.documents,
    webChat: platform.channels.webPublications,
    logger: options.logger ?? createLogger('silent'),
    print: options.print ?? (() => undefined),
  };
}
