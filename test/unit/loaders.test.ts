import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DocxLoader } from '../../rag/loaders/docx.loader.js';
import { createLoaderRegistry } from '../../rag/loaders/loader-registry.js';
import { detectMediaType, DOCX, HTML, MARKDOWN, PDF, PLAIN_TEXT } from '../../rag/loaders/media-type.js';
import { fixture } from '../support/fixtures.js';
import { loadFailureReason } from '../support/load-failure.js';

const loaders = createLoaderRegistry();

/** A minimal, well-formed PDF (correct xref offsets) built from object bodies. */
function buildPdf(objects: string[], trailerExtra = ''): Buffer {
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailerExtra} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const onePage = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>'];


describe('PDF', () => {
  it('gives the tracemonkey paper as 14 numbered pages with each passage on its own page', async () => {
    const doc = await loaders.load({ bytes: fixture('docs/pdfjs__tracemonkey.pdf'), mediaType: 'application/pdf', filename: 'tracemonkey.pdf' });
    expect(doc.pages.map((p) => p.page)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(doc.format).toBe('text');
    const page = (n: number) => doc.pages[n - 1]!.text;
    expect(page(1)).toContain('Trace-based Just-in-Time Type Specialization');
    expect(page(1)).toContain('Brendan Eich');
    expect(page(8)).toContain('5.1 Optimizations');
    expect(page(10)).toContain('6.5 Calling External Functions');
    expect(page(14)).toContain('National Science foundation');
    expect(page(14)).toContain('Starkiller');
    // Words hyphenated across line ends are whole again, so a search for them finds them.
    expect(page(14)).not.toContain('Na-\ntional');
    for (const n of [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]) expect(page(n)).not.toContain('Brendan Eich');
  });

  it('reads text drawn with ligature glyphs as plain letters', async () => {
    const doc = await loaders.load({ bytes: fixture('docs/pdfjs__copy_paste_ligatures.pdf'), mediaType: 'application/pdf' });
    expect(doc.pages).toHaveLength(1);
    expect(doc.pages[0]!.text).toContain('abcdeffffiflffiffl');
  });

  it('explains a damaged (truncated) PDF', async () => {
    const truncated = fixture('docs/pdfjs__tracemonkey.pdf').subarray(0, 200_000);
    expect(await loadFailureReason(loaders.load({ bytes: truncated, mediaType: 'application/pdf' }))).toBe('The PDF could not be read (it may be damaged)');
  });

  it('explains a password-protected PDF', async () => {
    // Standard security handler with O/U entries no empty user password matches: readers must ask for one.
    const key = 'ab'.repeat(32);
    const encrypted = buildPdf(
      [...onePage, `<< /Filter /Standard /V 2 /R 3 /Length 128 /P -4 /O <${key}> /U <${key}> >>`],
      `/Encrypt 4 0 R /ID [<${'01'.repeat(16)}> <${'01'.repeat(16)}>]`,
    );
    expect(await loadFailureReason(loaders.load({ bytes: encrypted, mediaType: 'application/pdf' }))).toBe('The PDF is password-protected');
  });

  it('explains a PDF without a text layer (scanned or blank)', async () => {
    expect(await loadFailureReason(loaders.load({ bytes: buildPdf(onePage), mediaType: 'application/pdf' }))).toBe(
      'The PDF contains no extractable text (scanned images are not supported yet)',
    );
  });
});

describe('Word (.docx)', () => {
  it('keeps footnotes (without their back-links)', async () => {
    const doc = await loaders.load({ bytes: fixture('docs/mammoth__footnotes.docx'), mediaType: DOCX, filename: 'footnotes.docx' });
    const text = doc.pages[0]!.text;
    expect(doc.format).toBe('markdown');
    expect(text).toContain('Ouch');
    expect(text).toContain('A tachyon walks into a bar.');
    expect(text).toContain('Fin.');
    expect(text).not.toContain('↑');
  });

  it('keeps headings and nested lists as Markdown', async () => {
    const doc = await loaders.load({ bytes: fixture('docs/pandoc__lists.docx'), mediaType: 'application/octet-stream', filename: 'lists.docx' });
    const text = doc.pages[0]!.text;
    expect(text).toContain('## Some nested lists');
    expect(text).toContain('1. one\n2. two\n  1. a\n  2. b');
    expect(text).toContain('- two\n  - three\n    - four');
    expect(text).toContain('Sub paragraph');
  });

  it('explains a damaged Word file and a file that is not one', async () => {
    const corrupt = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from('word/document.xml'), randomBytes(500)]);
    expect(await loadFailureReason(loaders.load({ bytes: corrupt, mediaType: DOCX }))).toBe('The Word document could not be read (it may be damaged)');
    const legacy = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), randomBytes(200)]);
    // The registry sends legacy .doc files nowhere; the Word loader still explains them if asked.
    expect(await loadFailureReason(new DocxLoader().load({ bytes: legacy, mediaType: DOCX }))).toMatch(/Old Word documents \(\.doc\) are not supported/);
  });
});

describe('HTML', () => {
  it('gives the article of a real page, not its navigation', async () => {
    const doc = await loaders.load({ bytes: fixture('docs/readability__lifehacker-working.source.html'), mediaType: 'text/html' });
    const text = doc.pages[0]!.text;
    expect(doc.title).toBe('How to Program Your Mind to Stop Buying Crap You Don’t Need');
    expect(text).toContain('### Understand How Your Own Brain Works Against You');
    expect(text).toContain("We all buy things from time to time that we don't really need.");
    // List items stay separate lines instead of running together.
    expect(text).toMatch(/\n- Navigation Roadblocks: Stores force you/);
    expect(text).not.toContain('Trending on Kinja');
    expect(text).not.toContain('Blogs you may like');
    expect(text).not.toContain('Jeremy Clarkson');
  });

  it('falls back to the body text, runs no scripts and fetches nothing', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests += 1;
      res.end('x');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const html = `<!doctype html><html><head><title>Opening hours</title><link rel="stylesheet" href="${origin}/style.css">
        <script src="${origin}/app.js"></script><script>document.body.innerHTML = 'HACKED';</script></head>
        <body><img src="${origin}/logo.png"><iframe src="${origin}/frame"></iframe><p>We are open Monday to Friday.</p></body></html>`;
      const doc = await loaders.load({ bytes: Buffer.from(html), mediaType: 'text/html', sourceUrl: `${origin}/page` });
      expect(doc.title).toBe('Opening hours');
      expect(doc.pages[0]!.text).toBe('We are open Monday to Friday.');
      expect(requests).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('decodes a page in a legacy encoding declared by <meta charset>', async () => {
    const html = Buffer.from('<html><head><meta charset="iso-8859-1"></head><body><p>Caf\xe9 cr\xe8me</p></body></html>', 'latin1');
    const doc = await loaders.load({ bytes: html, mediaType: 'text/html' });
    expect(doc.pages[0]!.text).toBe('Café crème');
  });

  it('explains a page without readable text', async () => {
    expect(await loadFailureReason(loaders.load({ bytes: Buffer.from('<html><body><script>x()</script></body></html>'), mediaType: 'text/html' }))).toBe(
      'The web page contains no readable text',
    );
  });
});

describe('plain text and Markdown', () => {
  it('reads Markdown by extension, strips the BOM and takes the first heading as title', async () => {
    const bytes = Buffer.from('\uFEFF# Morning routine\n\n## Step one\n\nDrink water.\r\n', 'utf8');
    const doc = await loaders.load({ bytes, mediaType: 'text/plain', filename: 'routine.md' });
    expect(doc.format).toBe('markdown');
    expect(doc.title).toBe('Morning routine');
    expect(doc.pages[0]!.text.startsWith('# Morning routine')).toBe(true);
    expect(doc.pages[0]!.text).not.toContain('\r');
  });

  it('reads plain text as text', async () => {
    const doc = await loaders.load({ bytes: Buffer.from('Breathe in for four counts.'), mediaType: 'text/plain', filename: 'notes.txt' });
    expect(doc).toEqual({ title: undefined, pages: [{ text: 'Breathe in for four counts.' }], format: 'text' });
  });

  it('explains binary content sent as text, and an empty file', async () => {
    const binary = Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x89, 0x50, 0x4e, 0x47]);
    expect(await loadFailureReason(loaders.load({ bytes: binary, mediaType: 'text/plain', filename: 'notes.txt' }))).toBe(
      'The file is not readable text (it is binary or not UTF-8 encoded)',
    );
    expect(await loadFailureReason(loaders.load({ bytes: Buffer.from('\u0000\u0001abc'), mediaType: 'text/plain' }))).toMatch(/not readable text/);
    expect(await loadFailureReason(loaders.load({ bytes: Buffer.alloc(0), mediaType: 'text/plain' }))).toBe('The file is empty');
    expect(await loadFailureReason(loaders.load({ bytes: Buffer.from('  \n\n '), mediaType: 'text/markdown' }))).toBe('The file is empty');
  });
});

describe('choosing a loader', () => {
  it('trusts the content over the declared type and name', () => {
    expect(detectMediaType(fixture('docs/pdfjs__tracemonkey.pdf'), 'text/plain', 'paper.txt')).toBe(PDF);
    expect(detectMediaType(fixture('docs/pandoc__lists.docx'), 'application/octet-stream', 'upload.bin')).toBe(DOCX);
    expect(detectMediaType(Buffer.from('<!DOCTYPE html><html></html>'), undefined, undefined)).toBe(HTML);
    expect(detectMediaType(Buffer.from('hello'), 'text/plain; charset=utf-8', 'a.txt')).toBe(PLAIN_TEXT);
    expect(detectMediaType(Buffer.from('# hi'), 'application/octet-stream', 'a.markdown')).toBe(MARKDOWN);
  });

  it('refuses what no loader reads, naming what is supported', async () => {
    // An OpenDocument spreadsheet: a ZIP, but neither Word's nor Excel's.
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from('content.xml'), randomBytes(100)]);
    expect(detectMediaType(zip, 'application/vnd.oasis.opendocument.spreadsheet', 'sheet.ods')).toBeUndefined();
    expect(detectMediaType(randomBytes(100), 'image/png', 'photo.png')).toBeUndefined();
    expect(await loadFailureReason(loaders.load({ bytes: randomBytes(100), mediaType: 'image/png' }))).toMatch(/image\/png cannot be read; supported are PDF/);
  });
});
