import { Redis } from 'ioredis';
import { testRedisUrl } from './test-database.js';

/** Deletes every Redis key of one test's queue prefix (the server is shared: nothing else), as if Redis lost its data. */
export async function flushQueueKeys(prefix: string, redisUrl = testRedisUrl): Promise<number> {
  const redis = new Redis(redisUrl);
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}
