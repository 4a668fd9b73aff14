import { CsvError, parse } from 'csv-parse/sync';
import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { CSV } from './media-type.js';
import { tablesToDocument, type SheetRow } from './spreadsheet-table.js';

const DELIMITERS = [',', ';', '\t', '|'] as const;
// Lines looked at to tell the delimiter: enough to see it repeat, few enough to stay instant.
const SAMPLE_LINES = 20;
const utf8 = new TextDecoder('utf-8', { fatal: true });
// Excel on Windows saves "CSV" in the ANSI code page, and "Unicode text" as UTF-16 with a BOM.
const windows1252 = new TextDecoder('windows-1252');
const utf16 = new TextDecoder('utf-16le');

function decode(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return utf16.decode(bytes);
  try {
    return utf8.decode(bytes);
  } catch {
    return windows1252.decode(bytes);
  }
}

/** Occurrences of `delimiter` outside quoted fields, per line of `sample`. */
function countsPerLine(sample: string[], delimiter: string): number[] {
  let quoted = false;
  return sample.map((line) => {
    let n = 0;
    for (const ch of line) {
      if (ch === '"') quoted = !quoted;
      else if (ch === delimiter && !quoted) n += 1;
    }
    return n;
  });
}

/**
 * The delimiter that splits the first lines most consistently: Europe's CSV uses ";" (the comma is
 * its decimal mark), exports of "text" use tabs. A comma inside a sentence must not win, so the
 * count has to repeat from line to line.
 */
export function detectDelimiter(text: string): string {
  const sample = text.split(/\r\n?|\n/, SAMPLE_LINES).filter((l) => l.trim() !== '');
  let best: string = ',';
  let bestScore = 0;
  for (const delimiter of DELIMITERS) {
    const counts = countsPerLine(sample, delimiter);
    const first = counts[0] ?? 0;
    if (first === 0) continue;
    const score = counts.filter((n) => n === first).length * 1000 + first;
    if (score > bestScore) [best, bestScore] = [delimiter, score];
  }
  return best;
}

// eslint-disable-next-line no-control-regex
const BINARY = /[\u0000-\u0008\u000E-\u001F]/;

/** CSV (and tab-separated) files: each row a passage, "Header: value; …", located at its row; FAQ sheets give FAQ pairs. */
export class CsvLoader implements Loader {
  readonly mediaTypes = [CSV] as const;

  async load(input: LoadInput): Promise<LoadedDocument> {
    const text = decode(input.bytes).replace(/^\uFEFF/, '');
    if (BINARY.test(text.slice(0, 64 * 1024))) throw new DocumentLoadError('The file is not a CSV file (it holds binary data)');
    let records: string[][];
    try {
      records = parse(text, { delimiter: detectDelimiter(text), relax_column_count: true, relax_quotes: true, skip_empty_lines: false });
    } catch (err) {
      if (err instanceof CsvError) throw new DocumentLoadError(`The CSV file could not be read (${err.message})`);
      throw err;
    }
    // Rows as a spreadsheet numbers them: the first record is row 1, blank lines count.
    const rows: SheetRow[] = records.map((cells, i) => ({ number: i + 1, cells: cells.map((c) => c.trim()) }));
    const document = tablesToDocument([{ rows }]);
    if (document.pages.length === 0) throw new DocumentLoadError('The CSV file has no rows with text');
    return document;
  }
}
