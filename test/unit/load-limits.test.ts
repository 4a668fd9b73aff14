import { describe, expect, it } from 'vitest';
import { DEFAULT_LOAD_LIMITS, type LoadLimits } from '../../rag/loaders/load-limits.js';
import { createLoaderRegistry } from '../../rag/loaders/loader-registry.js';
import { deeplyNestedHtml, docx, manyPagesPdf, manyParagraphsDocx, zipBombDocx } from '../support/hostile-documents.js';
import { loadFailureReason } from '../support/load-failure.js';

const limits: LoadLimits = { maxPages: 20, maxParagraphs: 1_000, maxTextChars: 50_000, maxDecompressedBytes: 1024 * 1024 };
const loaders = createLoaderRegistry(limits);


describe('reading limits', () => {
  it('refuses a PDF with more pages than allowed before reading any of them', async () => {
    expect(await loadFailureReason(loaders.load({ bytes: manyPagesPdf(21), mediaType: 'application/pdf' }))).toBe(
      'The PDF has more than 20 pages (21); split it into smaller files',
    );
    // At the limit the pages are read (these are empty, so there is no text).
    expect(await loadFailureReason(loaders.load({ bytes: manyPagesPdf(20), mediaType: 'application/pdf' }))).toMatch(/no extractable text/);
  });

  it('refuses a Word document with more paragraphs than allowed', async () => {
    expect(await loadFailureReason(loaders.load({ bytes: manyParagraphsDocx(1_001), mediaType: '' }))).toBe(
      'The Word document has more than 1,000 paragraphs; split it into smaller files',
    );
    const fine = await loaders.load({ bytes: manyParagraphsDocx(1_000), mediaType: '' });
    expect(fine.pages[0]!.text.split('\n\n')).toHaveLength(1_000);
  });

  it('refuses a zip bomb whose headers understate what it inflates to, and one that states it', async () => {
    const lying = zipBombDocx(5 * 1024 * 1024);
    expect(lying.length).toBeLessThan(20 * 1024);
    expect(await loadFailureReason(loaders.load({ bytes: lying, mediaType: '' }))).toBe('The document expands to more than 1 MB when unpacked');
    const honest = docx(`<w:p><w:r><w:t>Roomy</w:t></w:r></w:p>${' '.repeat(2 * 1024 * 1024)}`);
    expect(await loadFailureReason(loaders.load({ bytes: honest, mediaType: '' }))).toBe('The document expands to more than 1 MB when unpacked');
    // The default limit lets the honest one through.
    expect((await createLoaderRegistry(DEFAULT_LOAD_LIMITS).load({ bytes: honest, mediaType: '' })).pages[0]!.text).toBe('Roomy');
  });

  it('refuses markup nested deeper than a reader follows, at once', async () => {
    expect(await loadFailureReason(loaders.load({ bytes: deeplyNestedHtml(100_000), mediaType: 'text/html' }))).toBe('The document is nested too deeply to be read');
    expect((await loaders.load({ bytes: deeplyNestedHtml(60), mediaType: 'text/html' })).pages[0]!.text).toContain('Deep text.');
  });

  it('refuses more extracted text than allowed, whatever the format', async () => {
    const text = Buffer.from('A sentence of plain text.\n'.repeat(2_000));
    expect(await loadFailureReason(loaders.load({ bytes: text, mediaType: 'text/plain' }))).toBe(
      'The document holds more than 50,000 characters of text; split it into smaller files',
    );
  });
});
