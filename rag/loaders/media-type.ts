/** Which document types the knowledge base accepts, and how an upload's real type is recognised. */

export const PDF = 'application/pdf';
export const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const HTML = 'text/html';
export const PLAIN_TEXT = 'text/plain';
export const MARKDOWN = 'text/markdown';

/** The canonical media types a loader exists for, in the order they are listed to creators. */
export const SUPPORTED_MEDIA_TYPES = [PDF, DOCX, HTML, PLAIN_TEXT, MARKDOWN] as const;
export type SupportedMediaType = (typeof SUPPORTED_MEDIA_TYPES)[number];

/** Human-readable list for error messages: "PDF, Word (.docx), HTML, plain text, Markdown". */
export const SUPPORTED_TYPES_DESCRIPTION = 'PDF, Word (.docx), HTML, plain text (.txt) and Markdown (.md)';

const aliases: Record<string, SupportedMediaType> = {
  'application/pdf': PDF,
  'application/x-pdf': PDF,
  [DOCX]: DOCX,
  'text/html': HTML,
  'application/xhtml+xml': HTML,
  'text/plain': PLAIN_TEXT,
  'text/markdown': MARKDOWN,
  'text/x-markdown': MARKDOWN,
};

const extensions: Record<string, SupportedMediaType> = {
  pdf: PDF,
  docx: DOCX,
  html: HTML,
  htm: HTML,
  xhtml: HTML,
  txt: PLAIN_TEXT,
  text: PLAIN_TEXT,
  md: MARKDOWN,
  markdown: MARKDOWN,
};

/** `text/HTML; charset=utf-8` → `text/html`; undefined for an empty or missing header. */
export function essence(mediaType: string | undefined | null): string | undefined {
  const value = mediaType?.split(';')[0]?.trim().toLowerCase();
  return value || undefined;
}

function extensionOf(filename: string | undefined): string | undefined {
  const match = filename ? /\.([a-z0-9]+)$/i.exec(filename.trim()) : null;
  return match?.[1]?.toLowerCase();
}

const PDF_MAGIC = Buffer.from('%PDF-');
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const DOCX_MAIN_PART = Buffer.from('word/document.xml');

function startsWith(bytes: Uint8Array, magic: Buffer): boolean {
  return bytes.length >= magic.length && Buffer.from(bytes.buffer, bytes.byteOffset, magic.length).equals(magic);
}

/** True when the bytes are a ZIP archive: DOCX files are, and so are many formats we do not read. */
export function isZip(bytes: Uint8Array): boolean {
  return startsWith(bytes, ZIP_MAGIC);
}

/** True for the legacy binary Word/Office format (.doc, .xls), which has no loader. */
export function isOleCompound(bytes: Uint8Array): boolean {
  return startsWith(bytes, OLE_MAGIC);
}

function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html') || (head.startsWith('<?xml') && head.includes('<html'));
}

/**
 * Decides which loader reads `bytes`: the content itself first (PDF magic, a ZIP holding
 * word/document.xml), then the declared media type, then the file name's extension.
 * Returns undefined when no loader fits.
 */
export function detectMediaType(bytes: Uint8Array, declared?: string, filename?: string): SupportedMediaType | undefined {
  // PDF writers may put junk before the header; readers accept it within the first KiB.
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024));
  if (head.indexOf(PDF_MAGIC) !== -1) return PDF;
  if (isZip(bytes)) {
    // File names in a ZIP's headers are stored uncompressed, so the main part's name is visible.
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf(DOCX_MAIN_PART) !== -1 ? DOCX : undefined;
  }
  if (isOleCompound(bytes)) return undefined;
  const declaredType = aliases[essence(declared) ?? ''];
  const byExtension = extensions[extensionOf(filename) ?? ''];
  // Browsers send text/plain for .md files; the extension is the better witness there.
  if (declaredType === PLAIN_TEXT && byExtension === MARKDOWN) return MARKDOWN;
  if (declaredType) return declaredType;
  if (byExtension) return byExtension;
  if (looksLikeHtml(bytes)) return HTML;
  return undefined;
}
