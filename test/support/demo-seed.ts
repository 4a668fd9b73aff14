import type { DemoSeedDeps } from '../../src/demo/seed-demo.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { demoSeedDeps as platformDemoSeedDeps } from '../../src/platform.js';
import type { TestPlatform } from './test-platform.js';

/** The first-run demo's dependencies on a test platform: silent and printing nowhere unless told. */
export function demoSeedDeps(platform: TestPlatform, options: { logger?: Logger; print?: (text: string) => void } = {}): DemoSeedDeps {
  return platformDemoSeedDeps(platform, { logger: options.logger ?? createLogger('silent'), print: options.print ?? (() => undefined) });
}
