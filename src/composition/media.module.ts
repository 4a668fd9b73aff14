import path from 'node:path';
import type { Config } from '../config.js';
import { MediaRepository } from '../db/media.repository.js';
import { LocalDiskStorage } from '../media/adapters/local-disk.storage.js';
import { S3Storage } from '../media/adapters/s3.storage.js';
import type { MediaStorage } from '../media/media.ports.js';
import { MediaService } from '../media/media.service.js';
import type { BotsModule } from './bots.module.js';
import type { InfrastructureModule } from './infrastructure.module.js';
import type { KnowledgeModule } from './knowledge.module.js';
import type { ModuleLifecycle } from './module.types.js';

/** Files users send in chats: where they are kept, and their text for the coach. */
export interface MediaModule extends ModuleLifecycle {
  files: MediaService;
}

/** S3 when MEDIA_STORAGE=s3, otherwise DATA_DIR/media; documents are read by the knowledge module's reading processes. */
export function createMediaModule({
  config,
  infrastructure,
  bots,
  knowledge,
}: {
  config: Config;
  infrastructure: InfrastructureModule;
  bots: BotsModule;
  knowledge: Pick<KnowledgeModule, 'readers'>;
}): MediaModule {
  const storage: MediaStorage =
    config.MEDIA_STORAGE === 's3'
      ? new S3Storage({
          bucket: config.S3_BUCKET!,
          region: config.S3_REGION,
          forcePathStyle: config.S3_FORCE_PATH_STYLE ?? config.S3_ENDPOINT !== undefined,
          endpoint: config.S3_ENDPOINT,
          accessKeyId: config.S3_ACCESS_KEY_ID,
          secretAccessKey: config.S3_SECRET_ACCESS_KEY,
          prefix: config.S3_PREFIX,
        })
      : new LocalDiskStorage(path.join(config.dataDir, 'media'));
  const files = new MediaService({
    records: new MediaRepository(infrastructure.database.pool),
    storage,
    maxBytes: config.MEDIA_MAX_BYTES,
    readText: async ({ bytes, mimeType, fileName }) => {
      const loaded = await knowledge.readers.load({ bytes, mediaType: mimeType, ...(fileName ? { filename: fileName } : {}) });
      return loaded.pages.map((p) => p.text).join('\n\n');
    },
  });
  return {
    files,
    startWorkers() {
      // Files are written where the workers run, and removed there with their bot.
      bots.service.addBotDeletedListener((botId) => storage.deletePrefix(`${botId}/`));
    },
    async stop() {
      storage.close?.();
    },
  };
}
