import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { safeFetch, type SafeFetchOptions } from './safe-fetch.js';

/**
 * Web addresses: fetches through the SSRF guard, then hands the bytes to the loader their
 * content-type (or content) calls for. `fetch` is separate so ingestion can hash the bytes first.
 */
export class UrlLoader implements Loader {
  readonly mediaTypes = ['text/uri-list'] as const;

  constructor(
    /** Reads the fetched bytes (the loader registry, or the sandbox running it). */
    private readonly files: Pick<Loader, 'load'>,
    private readonly options: SafeFetchOptions,
  ) {}

  /** Downloads `url` as a loader input; the final URL after redirects is the source. */
  async fetch(url: string): Promise<LoadInput> {
    const resource = await safeFetch(url, this.options);
    if (!resource.bytes.length) throw new DocumentLoadError('The page is empty');
    const lastSegment = new URL(resource.url).pathname.split('/').pop() ?? '';
    let filename: string | undefined;
    try {
      filename = decodeURIComponent(lastSegment) || undefined;
    } catch {
      filename = lastSegment || undefined;
    }
    return { bytes: resource.bytes, mediaType: resource.mediaType ?? '', filename, sourceUrl: resource.url };
  }

  /** Fetches `input.sourceUrl` and extracts its text. */
  async load(input: LoadInput): Promise<LoadedDocument> {
    if (!input.sourceUrl) throw new DocumentLoadError('No web address to fetch');
    return this.files.load(await this.fetch(input.sourceUrl));
  }
}
