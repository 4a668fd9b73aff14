import { describe, expect, it } from 'vitest';
import { createLoaderRegistry } from '../../rag/loaders/loader-registry.js';
import { DEFAULT_LOAD_LIMITS } from '../../rag/loaders/load-limits.js';
import { detectMediaType, EPUB, PPTX, XLSX, ZIP_ARCHIVE } from '../../rag/loaders/media-type.js';
import { TextSplitter } from '../../rag/split.js';
import { citationLines, distinctSources } from '../../src/conversation/citations.js';
import { unzipSync, zipSync } from 'fflate';
import { zip } from '../support/hostile-documents.js';
import { epubBook, slideDeck, zipOf } from '../support/knowledge-files.js';
import { loadFailureReason } from '../support/load-failure.js';

const loaders = createLoaderRegistry();
const small = createLoaderRegistry({ ...DEFAULT_LOAD_LIMITS, maxPages: 3, maxDecompressedBytes: 1024 * 1024 });
const reason = (bytes: Buffer, mediaType: string, filename?: string, registry = loaders) => loadFailureReason(registry.load({ bytes, mediaType, filename }));

/** A compound (OLE) file's header followed by `body`: what Office writes for a password-protected or old-format file. */
function compoundFile(body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504), body]);
}

/** Marks every entry of a ZIP as encrypted (general-purpose flag bit 0), as a password-protected archive has them. */
function markEncrypted(archive: Buffer): Buffer {
  const out = Buffer.from(archive);
  for (let at = 0; at + 4 <= out.length; at++) {
    const signature = out.readUInt32LE(at);
    if (signature === 0x04034b50) out.writeUInt16LE(out.readUInt16LE(at + 6) | 1, at + 6);
    if (signature === 0x02014b50) out.writeUInt16LE(out.readUInt16LE(at + 8) | 1, at + 8);
  }
  return out;
}

const chapters = [
  { title: 'Welcome', body: '<h1>Welcome</h1><p>This book is about rest.</p>' },
  { title: 'Breathing', body: '<h1 id="start">Breathing</h1><p>Breathe in for four counts and out for six.</p><ul><li>Sit upright</li><li>Relax the jaw</li></ul>' },
  { body: '<h2>Sleep pressure</h2><p>Adenosine builds while you are awake.</p>' },
  { body: '<p>Notes without a heading.</p>' },
  { title: 'Blank', body: '<div><img src="../images/cover.png"/></div>' },
];

describe('EPUB e-books', () => {
  it('reads chapters in spine order, titled from the table of contents, else their heading, else their number', async () => {
    const book = await loaders.load({ bytes: epubBook('Rest Well', chapters), mediaType: EPUB, filename: 'rest.epub' });
    expect(book.title).toBe('Rest Well');
    expect(book.format).toBe('markdown');
    expect(book.pages.map((p) => p.section)).toEqual(['Welcome', 'Breathing', 'Sleep pressure', 'Chapter 4']);
    expect(book.pages[1]!.text).toBe('# Breathing\n\nBreathe in for four counts and out for six.\n\n- Sit upright\n- Relax the jaw');
  });

  it('locates every chunk at its chapter, cited by number and title, merged per book', async () => {
    const book = await loaders.load({ bytes: epubBook('Rest Well', chapters), mediaType: EPUB, filename: 'rest.epub' });
    expect(book.pages.map((p) => p.location)).toEqual([
      { kind: 'chapter', value: 1, section: 'Welcome' },
      { kind: 'chapter', value: 2, section: 'Breathing' },
      { kind: 'chapter', value: 3, section: 'Sleep pressure' },
      { kind: 'chapter', value: 4 },
    ]);
    const chunks = await new TextSplitter({ chunkSize: 1000, chunkOverlap: 0 }).split(book);
    const passages = chunks.map((c) => ({ id: c.ordinal, documentId: 'doc-book', title: 'Rest Well', text: c.text, ...(c.location ? { location: c.location } : {}) }));
    expect(citationLines(distinctSources([passages[3]!, passages[1]!, passages[1]!]))).toEqual(['— Rest Well, ch. 2 “Breathing”; ch. 4']);
  });

  it('heads every chunk of a long chapter with its title', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `<p>Paragraph ${i} keeps talking about slow exhalation and the evening wind-down.</p>`).join('');
    const book = await loaders.load({ bytes: epubBook('Rest Well', [{ title: 'Evening', body: long }]), mediaType: EPUB });
    const chunks = await new TextSplitter({ chunkSize: 400, chunkOverlap: 0 }).split(book);
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) expect(chunk.text.startsWith('Evening\n\n')).toBe(true);
  });

  it('refuses DRM-protected chapters but reads a book whose fonts alone are obfuscated', async () => {
    const encryption = (uri: string) =>
      `<?xml version="1.0"?><encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/><enc:CipherData><enc:CipherReference URI="${uri}"/></enc:CipherData></enc:EncryptedData></encryption>`;
    const locked = epubBook('Locked', chapters.slice(0, 2), { 'META-INF/encryption.xml': encryption('OEBPS/text/chapter-2.xhtml'), 'META-INF/rights.xml': '<rights/>' });
    expect(await reason(locked, EPUB, 'locked.epub')).toBe('The e-book is protected by DRM (copy protection) and cannot be read; upload a DRM-free copy');
    const fonts = epubBook('Fonts', chapters.slice(0, 2), { 'META-INF/encryption.xml': encryption('OEBPS/fonts/serif.otf') });
    expect((await loaders.load({ bytes: fonts, mediaType: EPUB })).pages).toHaveLength(2);
  });

  it('fails damaged, incomplete, oversized and bomb e-books with their reason', async () => {
    const book = epubBook('Rest Well', chapters);
    expect(await reason(book.subarray(0, book.length - 30), EPUB, 'cut.epub')).toBe('The e-book could not be read (it may be damaged)');
    expect(await reason(zipOf({ mimetype: 'application/epub+zip', 'OEBPS/a.xhtml': '<p>x</p>' }), EPUB, 'bare.epub')).toBe(
      'The file is not a valid EPUB e-book (it has no META-INF/container.xml)',
    );
    expect(await reason(Buffer.from('not a zip at all'), EPUB, 'text.epub')).toBe('The file is not a valid EPUB e-book (.epub)');
    const many = epubBook('Long', Array.from({ length: 5 }, (_, i) => ({ title: `Part ${i}`, body: '<p>Text.</p>' })));
    expect(await reason(many, EPUB, 'long.epub', small)).toBe('The e-book has more than 3 chapters (5); split it into smaller files');
    const bomb = zip([
      { name: 'mimetype', data: Buffer.from('application/epub+zip') },
      { name: 'META-INF/container.xml', data: Buffer.from('<container/>') },
      { name: 'OEBPS/text/chapter-1.xhtml', data: Buffer.alloc(8 * 1024 * 1024, 0x20), declaredSize: 100 },
    ]);
    expect(await reason(bomb, EPUB, 'bomb.epub', small)).toBe('The document expands to more than 1 MB when unpacked');
  });
});

describe('PowerPoint decks', () => {
  it('gives one entry per slide with text, located at its number, title first, then its text and speaker notes', async () => {
    const deck = await slideDeck([
      { title: 'Morning routine', texts: ['Drink a glass of water', 'Ten minutes of daylight'], notes: 'Ask who already does this.' },
      {},
      { title: 'Breathing', table: [['Inhale', '4 counts'], ['Exhale', '6 counts']] },
      { texts: ['Questions?'] },
    ]);
    const doc = await loaders.load({ bytes: deck, mediaType: PPTX, filename: 'workshop.pptx' });
    expect(doc.title).toBe('Morning routine');
    expect(doc.pages).toEqual([
      {
        location: { kind: 'slide', value: 1 },
        section: 'Morning routine',
        text: '# Morning routine\n\nDrink a glass of water\n\nTen minutes of daylight\n\nSpeaker notes:\nAsk who already does this.',
      },
      { location: { kind: 'slide', value: 3 }, section: 'Breathing', text: '# Breathing\n\nInhale | 4 counts\nExhale | 6 counts' },
      { location: { kind: 'slide', value: 4 }, text: 'Questions?' },
    ]);
  });

  it('says a compound file is password-protected or an old .ppt, and refuses damaged and oversized decks', async () => {
    const encrypted = compoundFile(Buffer.concat([Buffer.from('EncryptionInfo', 'utf16le'), Buffer.from('EncryptedPackage', 'utf16le')]));
    expect(await reason(encrypted, PPTX, 'locked.pptx')).toBe('The presentation is password-protected; remove the password in PowerPoint and upload it again');
    expect(await reason(compoundFile(Buffer.from('PowerPoint Document', 'utf16le')), 'application/octet-stream', 'old.pptx')).toBe(
      'Old PowerPoint presentations (.ppt) are not supported; save the file as .pptx and upload it again',
    );
    const deck = await slideDeck([{ title: 'One' }, { title: 'Two' }, { title: 'Three' }, { title: 'Four' }]);
    expect(await reason(deck, PPTX, 'long.pptx', small)).toBe('The presentation has more than 3 slides (4); split it into smaller files');
    expect(await reason(deck.subarray(0, deck.length - 40), PPTX, 'cut.pptx')).toBe('The presentation could not be read (it may be damaged)');
    const parts = unzipSync(new Uint8Array(deck));
    const slide = new TextDecoder().decode(parts['ppt/slides/slide1.xml']);
    parts['ppt/slides/slide1.xml'] = new TextEncoder().encode(slide.replace('<p:sp>', `${'<p:grpSp>'.repeat(100_000)}${'</p:grpSp>'.repeat(100_000)}<p:sp>`));
    expect(await reason(Buffer.from(zipSync(parts)), PPTX, 'nested.pptx')).toBe('The document is nested too deeply to be read');
  });
});

describe('Notion and Obsidian exports', () => {
  const id = '0123456789abcdef0123456789abcdef';
  const archive = zipOf({
    [`Course ${id}/Week 10/Review ${id}.md`]: '# Review\n\nLook back at the ten weeks.',
    [`Course ${id}/Week 1/Breathing ${id}.md`]: '---\ntags: [breath]\n---\n# Breathing\n\nExhale longer than you inhale. See [[Sleep pressure|the sleep notes]].\n![[diagram.png]]',
    [`Course ${id}/Week 1/Evening ${id}.html`]: '<!doctype html><html><head><title>Evening</title></head><body><h1>Evening</h1><p>Dim the lights at nine.</p></body></html>',
    [`Course ${id}/Week 1/diagram.png`]: 'PNG',
    'Course/.obsidian/workspace.md': 'hidden settings',
    '__MACOSX/Course/._Breathing.md': 'resource fork',
    'Course/empty.md': '   ',
  });

  it('reads each Markdown or HTML file as a section titled by its folder path, without Notion ids, in path order', async () => {
    const doc = await loaders.load({ bytes: archive, mediaType: ZIP_ARCHIVE, filename: 'Export-1234.zip' });
    const at = (value: number, section: string) => ({ location: { kind: 'path', value, section }, section });
    expect(doc.pages).toEqual([
      { ...at(1, 'Course/Week 1/Breathing'), text: '# Breathing\n\nExhale longer than you inhale. See the sleep notes.' },
      { ...at(2, 'Course/Week 1/Evening'), text: '# Evening\n\nDim the lights at nine.' },
      { ...at(3, 'Course/Week 10/Review'), text: '# Review\n\nLook back at the ten weeks.' },
    ]);
    const chunks = await new TextSplitter({ chunkSize: 1000, chunkOverlap: 0 }).split(doc);
    expect(chunks[0]!.text).toBe('Course/Week 1/Breathing\n\n# Breathing\n\nExhale longer than you inhale. See the sleep notes.');
    const passages = chunks.map((c) => ({ id: c.ordinal, documentId: 'doc-export', title: 'Notion export', text: c.text, ...(c.location ? { location: c.location } : {}) }));
    expect(citationLines(distinctSources([passages[2]!, passages[0]!]))).toEqual(['— Notion export, Course/Week 1/Breathing; Course/Week 10/Review']);
  });

  it('refuses an archive without pages, a password-protected one and one with too many files', async () => {
    expect(await reason(zipOf({ 'photo.jpg': 'JPEG', 'data.csv': 'a,b' }), ZIP_ARCHIVE, 'photos.zip')).toBe(
      'The archive holds no Markdown or HTML files with text (a Notion or Obsidian export is expected)',
    );
    const locked = markEncrypted(zip([{ name: 'Notes/Plan.md', data: Buffer.from('# Plan') }]));
    expect(await reason(locked, ZIP_ARCHIVE, 'locked.zip')).toBe('The archive is password-protected; remove the password and upload it again');
    const many = zipOf(Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`Notes/${i}.md`, `Note ${i}`])));
    expect(await reason(many, ZIP_ARCHIVE, 'notes.zip', small)).toBe('The archive holds more than 3 Markdown or HTML files (4); split it into smaller archives');
  });
});

describe('recognising the new kinds', () => {
  it('by content, by declared type and by extension; other Office archives stay unsupported', async () => {
    const book = epubBook('B', chapters.slice(0, 1));
    const deck = await slideDeck([{ title: 'T' }]);
    const archive = zipOf({ 'a.md': '# A' });
    for (const [bytes, type] of [[book, EPUB], [deck, PPTX]] as const) {
      expect(detectMediaType(bytes, type, undefined)).toBe(type);
      expect(detectMediaType(bytes, 'application/octet-stream', 'upload.bin')).toBe(type);
      expect(detectMediaType(bytes, 'application/zip', 'file.zip')).toBe(type);
    }
    expect(detectMediaType(archive, 'application/zip', undefined)).toBe(ZIP_ARCHIVE);
    expect(detectMediaType(archive, 'application/x-zip-compressed', 'Export.zip')).toBe(ZIP_ARCHIVE);
    expect(detectMediaType(archive, 'application/octet-stream', 'Export.ZIP')).toBe(ZIP_ARCHIVE);
    expect(detectMediaType(archive, undefined, undefined)).toBe(ZIP_ARCHIVE);
    expect(detectMediaType(zipOf({ '[Content_Types].xml': '<Types/>', 'xl/workbook.xml': '<workbook/>' }), undefined, undefined)).toBe(XLSX);
    expect(detectMediaType(zipOf({ '[Content_Types].xml': '<Types/>', 'visio/document.xml': '<VisioDocument/>' }), undefined, undefined)).toBeUndefined();
    expect(detectMediaType(archive, 'application/zip', 'drawing.vsdx')).toBeUndefined();
    // A deck and a book stored uncompressed inside an export leave their part names in its bytes; the export is still an export.
    const withAttachments = Buffer.from(zipSync({ 'Notes/Plan.md': new TextEncoder().encode('# Plan'), 'Notes/deck.pptx': [new Uint8Array(deck), { level: 0 }], 'Notes/book.epub': [new Uint8Array(book), { level: 0 }] }));
    expect(detectMediaType(withAttachments, 'application/zip', 'Export.zip')).toBe(ZIP_ARCHIVE);
    expect((await loaders.load({ bytes: withAttachments, mediaType: 'application/zip', filename: 'Export.zip' })).pages).toEqual([{ location: { kind: 'path', value: 1, section: 'Notes/Plan' }, section: 'Notes/Plan', text: '# Plan' }]);
    expect(await reason(Buffer.from('plain words'), 'application/octet-stream', 'photo.heic')).toMatch(/supported are .*PowerPoint \(\.pptx\), e-books \(\.epub\).*ZIP exports/);
  });
});
