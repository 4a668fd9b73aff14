import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { MediaStorage } from '../media.ports.js';

/** Media files on local disk under one root (DATA_DIR/media by default). */
export class LocalDiskStorage implements MediaStorage {
  constructor(private readonly root: string) {}

  async put(key: string, bytes: Buffer): Promise<void> {
    const file = this.pathOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    // Written aside and renamed, so a crash never leaves a half-written file under the real name.
    const temporary = `${file}.${randomBytes(6).toString('hex')}.part`;
    await writeFile(temporary, bytes, { mode: 0o600 });
    await rename(temporary, file);
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    // Keys are `<bot>/<conversation>/<file>`: a prefix ending in "/" is a folder.
    const target = prefix.endsWith('/') ? this.pathOf(prefix.slice(0, -1)) : this.pathOf(prefix);
    await rm(target, { recursive: true, force: true });
  }

  private pathOf(key: string): string {
    const resolved = path.resolve(this.root, key);
    if (!resolved.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`Media key escapes the storage root: ${key}`);
    return resolved;
  }
}
