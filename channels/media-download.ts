/** Reading files users sent from a channel's servers, never past a size limit. */
import { AppError } from '../src/errors/app.errors.js';
import { ChannelRequestError, type ChannelName } from '../src/conversation/channel.ports.js';

/** A file is larger than we accept; nothing past the limit was read. */
export class MediaTooLargeError extends AppError {
  constructor(
    readonly channel: ChannelName,
    readonly limitBytes: number,
    readonly sizeBytes?: number,
  ) {
    super('MEDIA_TOO_LARGE', 413, `The ${channel} media file is larger than ${limitBytes} bytes`, {
      limitBytes,
      sizeBytes,
    });
    this.name = 'MediaTooLargeError';
  }
}

/**
 * The part of a fetch response a download reads: the global fetch's Response has it, and so has the
 * lean fetch of src/http-client (whose responses are not Response instances).
 */
export interface DownloadResponse {
  readonly headers: { get(name: string): string | null };
  readonly body: {
    cancel(reason?: unknown): Promise<void>;
    getReader(): {
      read(): Promise<{ done: false; value: Uint8Array } | { done: true; value?: Uint8Array | undefined }>;
      cancel(reason?: unknown): Promise<void>;
    };
  } | null;
}

/**
 * Reads a download's body, refusing (and aborting) anything over `limit` bytes — by its declared
 * length when there is one, otherwise as soon as the bytes read pass it.
 */
export async function readLimited(response: DownloadResponse, limit: number, channel: ChannelName): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new MediaTooLargeError(channel, limit, declared);
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => undefined);
        throw new MediaTooLargeError(channel, limit);
      }
      chunks.push(Buffer.from(value));
    }
  } catch (err) {
    if (err instanceof MediaTooLargeError) throw err;
    const message = err instanceof Error ? (err.name === 'TimeoutError' ? 'request timed out' : err.message) : String(err);
    throw new ChannelRequestError(channel, undefined, message, true);
  }
  return Buffer.concat(chunks, total);
}
