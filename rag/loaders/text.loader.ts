import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { essence, MARKDOWN, PLAIN_TEXT } from './media-type.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

// Control characters other than tab, line feed, form feed and carriage return: text never has them, binaries do.
// eslint-disable-next-line no-control-regex
const BINARY_CONTROL = /[\u0000-\u0008\u000B\u000E-\u001F]/;

function isMarkdown(input: LoadInput): boolean {
  return essence(input.mediaType) === MARKDOWN || /\.(md|markdown)$/i.test(input.filename ?? '');
}

/** Plain text and Markdown; must be UTF-8. */
export class TextLoader implements Loader {
  readonly mediaTypes = [PLAIN_TEXT, MARKDOWN] as const;

  async load(input: LoadInput): Promise<LoadedDocument> {
    let text: string;
    try {
      text = utf8.decode(input.bytes);
    } catch {
      throw new DocumentLoadError('The file is not readable text (it is binary or not UTF-8 encoded)');
    }
    if (BINARY_CONTROL.test(text)) throw new DocumentLoadError('The file is not readable text (it is binary or not UTF-8 encoded)');
    text = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
    if (!text.trim()) throw new DocumentLoadError('The file is empty');
    const markdown = isMarkdown(input);
    const title = markdown ? /^#\s+(.+?)\s*#*\s*$/m.exec(text)?.[1] : undefined;
    return { title, pages: [{ text }], format: markdown ? 'markdown' : 'text' };
  }
}
