/**
 * A sheet's rows as passages: one entry per row, located at its row number (and sheet), its cells
 * named by their column headers so a row reads "Price: 40 €; Duration: 6 weeks" on its own. Shared
 * by the CSV and XLSX loaders.
 */
import type { FaqDraft, LoadedDocument } from '../types.js';
import { faqPairs } from './faq-sheet.js';

/** One row as the spreadsheet numbers it (1-based, the header row included), cells by column. */
export interface SheetRow {
  number: number;
  cells: string[];
}

/** A sheet (a workbook's, named) or a CSV file (unnamed). */
export interface SheetTable {
  name?: string;
  rows: SheetRow[];
}

// A document's pairs beyond this are left out (a bot holds a few thousand at most).
const MAX_FAQS_PER_DOCUMENT = 5000;
// Column headers are short labels; a longer first cell is content.
const MAX_HEADER_CHARS = 80;
const NUMBER = /^[-+]?[\d\s.,]*\d[\d\s.,]*%?$/;

function nonEmpty(row: SheetRow): string[] {
  return row.cells.filter((c) => c !== '');
}

/**
 * True when the first filled row names the columns: short, non-numeric labels, not a question
 * (FAQ sheets without headers start with one), and followed by at least one more row.
 */
function hasHeader(rows: readonly SheetRow[]): boolean {
  const first = rows[0];
  if (!first || rows.length < 2) return false;
  const cells = nonEmpty(first);
  return cells.length > 0 && cells.every((c) => c.length <= MAX_HEADER_CHARS && !NUMBER.test(c) && !/[?？]\s*$/.test(c));
}

/** "Header: value; Header: value" for the filled cells; a cell without a header is given as it is. */
function rowText(row: SheetRow, headers: readonly string[] | undefined): string {
  return row.cells
    .map((value, column) => {
      if (value === '') return '';
      const header = headers?.[column];
      return header ? `${header}: ${value}` : value;
    })
    .filter((part) => part !== '')
    .join('; ');
}

/** The table's header (when it has one) and its data rows, empty rows dropped. */
export function splitHeader(table: SheetTable): { headers: string[] | undefined; data: SheetRow[] } {
  const rows = table.rows.filter((r) => nonEmpty(r).length > 0);
  if (!hasHeader(rows)) return { headers: undefined, data: rows };
  return { headers: (rows[0] as SheetRow).cells.map((c) => c.replace(/\s+/g, ' ')), data: rows.slice(1) };
}

/** The passages (one per filled row) and FAQ pairs of a set of sheets. */
export function tablesToDocument(tables: readonly SheetTable[]): LoadedDocument {
  const pages: LoadedDocument['pages'] = [];
  const faqs: FaqDraft[] = [];
  for (const table of tables) {
    const { headers, data } = splitHeader(table);
    const at = (row: SheetRow) => ({ kind: 'row' as const, value: row.number, ...(table.name !== undefined ? { section: table.name } : {}) });
    for (const row of data) pages.push({ location: at(row), text: rowText(row, headers) });
    for (const pair of faqPairs(headers, data)) {
      if (faqs.length < MAX_FAQS_PER_DOCUMENT) faqs.push({ question: pair.question, answer: pair.answer, location: at(pair.row) });
    }
  }
  return { pages, format: 'text', ...(faqs.length ? { faqs } : {}) };
}
