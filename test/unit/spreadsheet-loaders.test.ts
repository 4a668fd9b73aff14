import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { detectDelimiter } from '../../rag/loaders/csv.loader.js';
import { createLoaderRegistry } from '../../rag/loaders/loader-registry.js';
import { CSV, detectMediaType, XLSX } from '../../rag/loaders/media-type.js';
import { TextSplitter } from '../../rag/split.js';
import { DocumentLoadError, type LoadedDocument } from '../../rag/types.js';
import { citationLines, distinctSources } from '../../src/conversation/citations.js';
import { zip } from '../support/hostile-documents.js';

const loaders = createLoaderRegistry({ maxPages: 2000, maxParagraphs: 50_000, maxTextChars: 5_000_000, maxDecompressedBytes: 2 * 1024 * 1024 });

function csv(text: string, filename = 'sheet.csv'): Promise<LoadedDocument> {
  return loaders.load({ bytes: Buffer.from(text), mediaType: 'text/csv', filename });
}

async function failure(bytes: Buffer, mediaType: string, filename: string): Promise<string> {
  try {
    await loaders.load({ bytes, mediaType, filename });
  } catch (err) {
    expect(err).toBeInstanceOf(DocumentLoadError);
    return (err as Error).message;
  }
  throw new Error('expected the file to be refused');
}

async function workbook(build: (book: ExcelJS.Workbook) => void): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  build(book);
  return Buffer.from(await book.xlsx.writeBuffer());
}

describe('CSV loader', () => {
  it('turns each row into a passage that names its columns, located at its row', async () => {
    const loaded = await csv('Plan,Price,Duration\nStarter,40 €,6 weeks\n\nPremium,"90 €, with calls",12 weeks\n');
    expect(loaded.pages).toEqual([
      { location: { kind: 'row', value: 2 }, text: 'Plan: Starter; Price: 40 €; Duration: 6 weeks' },
      { location: { kind: 'row', value: 4 }, text: 'Plan: Premium; Price: 90 €, with calls; Duration: 12 weeks' },
    ]);
    expect(loaded.faqs).toBeUndefined();
  });

  it('reads semicolon and tab separated files, and Excel’s ANSI export', async () => {
    expect(detectDelimiter('Frage;Antwort\nWas kostet es, bitte?;40 €, einmalig\n')).toBe(';');
    expect(detectDelimiter('a\tb\n1\t2\n')).toBe('\t');
    // "ü", "ä" and "€" (0x80) as Windows-1252 writes them.
    const ansi = Buffer.from('Produkt;Preis\nKurs für Anfänger;40 \x80\n', 'latin1');
    const loaded = await loaders.load({ bytes: ansi, mediaType: 'application/vnd.ms-excel', filename: 'preise.csv' });
    expect(loaded.pages[0]?.text).toBe('Produkt: Kurs für Anfänger; Preis: 40 €');
  });

  it('recognises FAQ sheets by their headers in several languages, and by questions without headers', async () => {
    const german = await csv('Frage;Antwort\nWas kostet das Programm?;40 € einmalig.\nWann geht es los?;Jeden ersten Montag.\n');
    expect(german.faqs).toEqual([
      { question: 'Was kostet das Programm?', answer: '40 € einmalig.', location: { kind: 'row', value: 2 } },
      { question: 'Wann geht es los?', answer: 'Jeden ersten Montag.', location: { kind: 'row', value: 3 } },
    ]);
    expect((await csv('Category,Q,A\nBilling,Refunds,Within 14 days.\n')).faqs).toEqual([
      { question: 'Refunds', answer: 'Within 14 days.', location: { kind: 'row', value: 2 } },
    ]);
    const bare = await csv('How long is a session?,About 20 minutes.\nDo I need a mat?,It helps.\n');
    expect(bare.faqs?.map((f) => f.question)).toEqual(['How long is a session?', 'Do I need a mat?']);
    expect(bare.pages[0]?.text).toBe('How long is a session?; About 20 minutes.');
    // Two columns of statements are a table, not an FAQ.
    expect((await csv('Week,Topic\n1,Sleep\n2,Light\n')).faqs).toBeUndefined();
  });

  it('says what is wrong with a CSV it cannot read', async () => {
    expect(await failure(Buffer.from('a,b\n"unclosed,2\n'), 'text/csv', 'x.csv')).toMatch(/^The CSV file could not be read \(.*quote.*line 2/i);
    expect(await failure(Buffer.from([0x41, 0x2c, 0x00, 0x01, 0x02]), 'text/csv', 'x.csv')).toBe('The file is not a CSV file (it holds binary data)');
    expect(await failure(Buffer.from(',,\n,,\n'), 'text/csv', 'x.csv')).toBe('The CSV file has no rows with text');
  });
});

describe('XLSX loader', () => {
  it('reads every visible sheet, located "sheet Plans, row 3", with dates, numbers and rich text as shown', async () => {
    const bytes = await workbook((book) => {
      const plans = book.addWorksheet('Plans');
      plans.addRow(['Plan', 'Price', 'Starts']);
      plans.addRow(['Starter', 40, new Date(Date.UTC(2026, 2, 2))]);
      plans.addRow([{ richText: [{ text: 'Pre' }, { text: 'mium', font: { bold: true } }] }, 0.1 + 0.2, 'on request']);
      plans.getCell('C2').numFmt = 'yyyy-mm-dd';
      book.addWorksheet('Lookup', { state: 'hidden' }).addRow(['internal', 'do not publish']);
    });
    expect(detectMediaType(bytes, 'application/octet-stream', 'plans.xlsx')).toBe(XLSX);
    const loaded = await loaders.load({ bytes, mediaType: XLSX, filename: 'plans.xlsx' });
    expect(loaded.pages).toEqual([
      { location: { kind: 'row', value: 2, section: 'Plans' }, text: 'Plan: Starter; Price: 40; Starts: 2026-03-02' },
      { location: { kind: 'row', value: 3, section: 'Plans' }, text: 'Plan: Premium; Price: 0.3; Starts: on request' },
    ]);
    // Every row stays its own chunk, so a citation names the row it came from.
    const chunks = await new TextSplitter({ chunkSize: 800, chunkOverlap: 100 }).split(loaded);
    const sources = distinctSources(chunks.map((c, i) => ({ id: i + 1, documentId: 'd', title: 'Price list', text: c.text, ...(c.location ? { location: c.location } : {}) })));
    expect(citationLines(sources)).toEqual(['— Price list, sheet Plans, rows 2, 3']);
  });

  it('takes FAQ pairs from an FAQ sheet of a workbook', async () => {
    const bytes = await workbook((book) => {
      book.addWorksheet('Prices').addRows([['Plan', 'Price'], ['Starter', 40]]);
      book.addWorksheet('FAQ').addRows([['Question', 'Answer'], ['Can I pause my plan?', 'Yes, for up to four weeks.'], ['Is there an app?', '']]);
    });
    const loaded = await loaders.load({ bytes, mediaType: XLSX, filename: 'coach.xlsx' });
    expect(loaded.faqs).toEqual([{ question: 'Can I pause my plan?', answer: 'Yes, for up to four weeks.', location: { kind: 'row', value: 2, section: 'FAQ' } }]);
  });

  it('refuses password-protected, damaged, bomb and non-workbook files with a reason', async () => {
    const ole = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(512)]);
    expect(detectMediaType(ole, '', 'secret.xlsx')).toBe(XLSX);
    expect(await failure(ole, '', 'secret.xlsx')).toMatch(/password-protected or an old Excel file/);
    const good = await workbook((book) => book.addWorksheet('A').addRow(['x']));
    expect(await failure(good.subarray(0, good.length - 30), XLSX, 'cut.xlsx')).toBe('The Excel workbook could not be read (it may be damaged)');
    const bomb = zip([
      { name: 'xl/workbook.xml', data: Buffer.from('<workbook/>') },
      { name: 'xl/media/filler.bin', data: Buffer.alloc(3 * 1024 * 1024) },
    ]);
    expect(await failure(bomb, XLSX, 'bomb.xlsx')).toBe('The document expands to more than 2 MB when unpacked');
    const notBook = zip([{ name: 'xl/workbook.xml.bak', data: Buffer.from('x') }]);
    expect(detectMediaType(notBook, XLSX, 'odd.xlsx')).toBe(XLSX);
    expect(await failure(notBook, XLSX, 'odd.xlsx')).toBe('The file is a ZIP archive but not an Excel workbook');
  });

  it('is recognised by extension and type, and a .csv sent as text/plain is a CSV', () => {
    expect(detectMediaType(Buffer.from('a,b\n'), 'text/plain', 'list.csv')).toBe(CSV);
    expect(detectMediaType(Buffer.from('a\tb\n'), '', 'list.tsv')).toBe(CSV);
  });
});
