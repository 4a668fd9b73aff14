/** Which document types the knowledge base accepts, and how an upload's real type is recognised. */
import { entryNames } from './zip-inflate.js';

export const PDF = 'application/pdf';
export const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const HTML = 'text/html';
export const PLAIN_TEXT = 'text/plain';
export const MARKDOWN = 'text/markdown';
export const SRT = 'application/x-subrip';
export const VTT = 'text/vtt';
export const EPUB = 'application/epub+zip';
export const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
/** A ZIP of Markdown and HTML files, as Notion and Obsidian export a workspace. */
export const ZIP_ARCHIVE = 'application/zip';
export const CSV = 'text/csv';
export const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The canonical media types a loader exists for, in the order they are listed to creators. */
export const SUPPORTED_MEDIA_TYPES = [PDF, DOCX, HTML, PLAIN_TEXT, MARKDOWN, SRT, VTT, EPUB, PPTX, ZIP_ARCHIVE, CSV, XLSX] as const;
export type SupportedMediaType = (typeof SUPPORTED_MEDIA_TYPES)[number];

/** Human-readable list for error messages. */
export const SUPPORTED_TYPES_DESCRIPTION =
  'PDF, Word (.docx), PowerPoint (.pptx), e-books (.epub), HTML, plain text (.txt), Markdown (.md), subtitles (.srt, .vtt), spreadsheets (.csv, .xlsx) and ZIP exports of Markdown or HTML files (Notion, Obsidian)';

const aliases: Record<string, SupportedMediaType> = {
  'application/pdf': PDF,
  'application/x-pdf': PDF,
  [DOCX]: DOCX,
  'text/html': HTML,
  'application/xhtml+xml': HTML,
  'text/plain': PLAIN_TEXT,
  'text/markdown': MARKDOWN,
  'text/x-markdown': MARKDOWN,
  [SRT]: SRT,
  'application/srt': SRT,
  'text/srt': SRT,
  'text/x-srt': SRT,
  [VTT]: VTT,
  [EPUB]: EPUB,
  [PPTX]: PPTX,
  [ZIP_ARCHIVE]: ZIP_ARCHIVE,
  'application/x-zip-compressed': ZIP_ARCHIVE,
  'application/x-zip': ZIP_ARCHIVE,
  'text/csv': CSV,
  'application/csv': CSV,
  'text/comma-separated-values': CSV,
  'text/tab-separated-values': CSV,
  // What Windows browsers declare for .csv files when Excel is installed.
  'application/vnd.ms-excel': CSV,
  [XLSX]: XLSX,
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
  srt: SRT,
  vtt: VTT,
  epub: EPUB,
  pptx: PPTX,
  zip: ZIP_ARCHIVE,
  csv: CSV,
  tsv: CSV,
  xlsx: XLSX,
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
const DOCX_MAIN_PART = 'word/document.xml';
const PPTX_MAIN_PART = 'ppt/presentation.xml';
const EPUB_CONTAINER = 'META-INF/container.xml';
// An EPUB's first entry is an uncompressed `mimetype` file holding this, so it sits near the start.
const EPUB_MIMETYPE = Buffer.from('mimetypeapplication/epub+zip');
const OOXML_CONTENT_TYPES = '[Content_Types].xml';
const XLSX_MAIN_PART = 'xl/workbook.xml';

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

const WEBVTT_MAGIC = Buffer.from('WEBVTT');

// The WebVTT header is the file's first word (after an optional byte-order mark) and is followed by a space, tab or line end.
function startsWithWebVtt(bytes: Uint8Array): boolean {
  const skip = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const head = bytes.subarray(skip, skip + 7);
  return startsWith(head, WEBVTT_MAGIC) && (head.length === 6 || [0x20, 0x09, 0x0a, 0x0d].includes(head[6] as number));
}

function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html') || (head.startsWith('<?xml') && head.includes('<html'));
}

const ZIP_KINDS = new Set<SupportedMediaType>([DOCX, PPTX, XLSX, EPUB, ZIP_ARCHIVE]);

/**
 * Which archive `bytes` is: Word, PowerPoint, Excel and EPUB by their parts; else what its name says, or
 * without a name its declared type, when that is one of ours (a damaged e-book still reaches the
 * e-book loader, which says so); else, with neither, an export of Markdown/HTML files unless it is
 * another Office format. Parts are looked up in the central directory, so a deck stored inside an
 * export does not make the export a deck; a directory that cannot be read falls back to finding
 * the names in the bytes (names in a ZIP's headers are stored uncompressed).
 */
function zipKind(bytes: Uint8Array, extension: string | undefined, declaredType: SupportedMediaType | undefined): SupportedMediaType | undefined {
  const zip = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const names = entryNames(bytes);
  const has = (part: string) => (names ? names.includes(part) : zip.indexOf(part) !== -1);
  if (has(DOCX_MAIN_PART)) return DOCX;
  if (has(PPTX_MAIN_PART)) return PPTX;
  if (has(XLSX_MAIN_PART)) return XLSX;
  if (zip.subarray(0, 128).indexOf(EPUB_MIMETYPE) !== -1 || has(EPUB_CONTAINER)) return EPUB;
  const claimed = extension ? extensions[extension] : declaredType;
  if (claimed && ZIP_KINDS.has(claimed)) return claimed;
  return !extension && !declaredType && !has(OOXML_CONTENT_TYPES) ? ZIP_ARCHIVE : undefined;
}

/**
 * Decides which loader reads `bytes`: the content itself first (PDF magic, a ZIP holding
 * word/document.xml, ppt/presentation.xml, xl/workbook.xml or an EPUB container: see zipKind), then the declared
 * media type, then the file name's extension (which wins over a declared text/plain for Markdown, CSV and subtitles, as does a WebVTT header).
 * Returns undefined when no loader fits.
 */
export function detectMediaType(bytes: Uint8Array, declared?: string, filename?: string): SupportedMediaType | undefined {
  // PDF writers may put junk before the header; readers accept it within the first KiB.
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024));
  if (head.indexOf(PDF_MAGIC) !== -1) return PDF;
  const declaredType = aliases[essence(declared) ?? ''];
  const extension = extensionOf(filename);
  const byExtension = extensions[extension ?? ''];
  if (isZip(bytes)) return zipKind(bytes, extension, declaredType);
  // Password-protected Office files are not ZIPs but compound files; the loader says why it cannot read them.
  if (isOleCompound(bytes)) {
    const claimed = byExtension ?? (!extension ? declaredType : undefined);
    return claimed === PPTX || claimed === XLSX ? claimed : undefined;
  }
  // Browsers send text/plain for .md files (and some for .csv); the extension is the better witness there.
  if (declaredType === PLAIN_TEXT && (byExtension === MARKDOWN || byExtension === SRT || byExtension === VTT || byExtension === CSV)) return byExtension;
  if ((declaredType === PLAIN_TEXT || !declaredType) && startsWithWebVtt(bytes)) return VTT;
  if (declaredType) return declaredType;
  if (byExtension) return byExtension;
  if (looksLikeHtml(bytes)) return HTML;
  return undefined;
}
