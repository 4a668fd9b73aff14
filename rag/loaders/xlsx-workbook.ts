/**
 * The visible sheets of an Excel workbook (.xlsx) as tables of cell text, read from its XML parts
 * (workbook, relationships, shared strings, styles for dates, worksheets) with fast-xml-parser.
 */
import { XMLParser } from 'fast-xml-parser';
import type { SheetRow, SheetTable } from './spreadsheet-table.js';

type Node = Record<string, unknown>;

const ARRAYS = new Set(['sheet', 'Relationship', 'si', 'r', 'row', 'c', 'xf', 'numFmt']);
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  isArray: (name) => ARRAYS.has(name),
});

/** The workbook part is missing or not what its name says. */
export class NotAWorkbookError extends Error {}

function xml(part: Buffer | undefined): Node {
  return part ? (parser.parse(part.toString('utf8')) as Node) : {};
}

function child(node: unknown, name: string): Node | undefined {
  const value = (node as Node | undefined)?.[name];
  return value && typeof value === 'object' ? (value as Node) : undefined;
}

function list(node: unknown, name: string): Node[] {
  const value = (node as Node | undefined)?.[name];
  return Array.isArray(value) ? (value as Node[]) : [];
}

function attr(node: Node, name: string): string | undefined {
  const value = node[`@${name}`];
  return typeof value === 'string' ? value : undefined;
}

/** The text of a `<t>` element: a string, or an object with `#text` when it has attributes. */
function textOf(node: unknown): string {
  if (typeof node === 'string') return node;
  if (node && typeof node === 'object') {
    const text = (node as Node)['#text'];
    return typeof text === 'string' ? text : '';
  }
  return '';
}

/** A shared or inline string: its `<t>`, or its rich-text runs' `<t>`s (phonetic guides left out). */
function stringItem(item: Node): string {
  if (item.t !== undefined) return textOf(item.t);
  return list(item, 'r')
    .map((run) => textOf(run.t))
    .join('');
}

// Built-in number formats that show dates (ECMA-376 §18.8.30).
const DATE_FORMAT_IDS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47]);

/** Style indexes whose number format shows a date or time. */
function dateStyles(styles: Node): Set<number> {
  const sheet = child(styles, 'styleSheet');
  const custom = new Map(list(child(sheet, 'numFmts'), 'numFmt').map((f) => [Number(attr(f, 'numFmtId')), attr(f, 'formatCode') ?? '']));
  const isDate = (id: number) => {
    if (DATE_FORMAT_IDS.has(id)) return true;
    // Quoted text and [colour]/[locale] parts aside, a format naming days, months or years is a date.
    const code = custom.get(id)?.replace(/"[^"]*"|\[[^\]]*\]|\\./g, '');
    return code !== undefined && /[dmy]/i.test(code) && !/^[#0.,%\s]*$/.test(code);
  };
  const dates = new Set<number>();
  list(child(sheet, 'cellXfs'), 'xf').forEach((xf, index) => {
    if (isDate(Number(attr(xf, 'numFmtId') ?? 0))) dates.add(index);
  });
  return dates;
}

/** An Excel serial day number as `2026-03-01` (with `14:30` when it has a time of day). */
function serialDate(serial: number, from1904: boolean): string {
  const epoch = from1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, 30);
  const date = new Date(epoch + Math.round(serial * 86_400_000));
  const iso = date.toISOString();
  return serial % 1 === 0 ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** Column index of a cell reference: `A12` → 0, `AB3` → 27. */
function columnOf(reference: string | undefined, fallback: number): number {
  const letters = reference ? /^[A-Z]+/i.exec(reference)?.[0] : undefined;
  if (!letters) return fallback;
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

// Excel keeps 15 significant digits; more are binary noise (0.30000000000000004).
function numberText(raw: string): string {
  const n = Number(raw);
  return Number.isFinite(n) ? String(Number(n.toPrecision(15))) : raw;
}

interface CellContext {
  shared: string[];
  dates: Set<number>;
  from1904: boolean;
}

function cellText(cell: Node, context: CellContext): string {
  const type = attr(cell, 't') ?? 'n';
  const value = textOf(cell.v);
  switch (type) {
    case 's':
      return context.shared[Number(value)] ?? '';
    case 'inlineStr':
      return stringItem(child(cell, 'is') ?? {});
    case 'b':
      return value === '1' ? 'TRUE' : value === '0' ? 'FALSE' : value;
    case 'e':
      return ''; // #DIV/0! and friends say nothing worth finding
    case 'str':
    case 'd':
      return value;
    default:
      if (value === '') return '';
      return context.dates.has(Number(attr(cell, 's') ?? -1)) ? serialDate(Number(value), context.from1904) : numberText(value);
  }
}

function sheetRows(sheet: Node, context: CellContext): SheetRow[] {
  const rows: SheetRow[] = [];
  for (const row of list(child(child(sheet, 'worksheet'), 'sheetData'), 'row')) {
    const number = Number(attr(row, 'r') ?? (rows.at(-1)?.number ?? 0) + 1);
    const cells: string[] = [];
    list(row, 'c').forEach((cell, i) => {
      const text = cellText(cell, context).trim();
      if (text !== '') cells[columnOf(attr(cell, 'r'), i)] = text;
    });
    rows.push({ number, cells: Array.from(cells, (c) => c ?? '') });
  }
  return rows;
}

/** `worksheets/sheet1.xml` or `/xl/worksheets/sheet1.xml` → `xl/worksheets/sheet1.xml`. */
function partName(target: string): string {
  return target.startsWith('/') ? target.slice(1) : `xl/${target.replace(/^\.\//, '')}`;
}

/** The workbook's visible sheets in tab order, from its unpacked parts (by name). */
export function readWorkbook(parts: ReadonlyMap<string, Buffer>): SheetTable[] {
  const workbook = child(xml(parts.get('xl/workbook.xml')), 'workbook');
  if (!workbook) throw new NotAWorkbookError('xl/workbook.xml is missing or empty');
  const targets = new Map(
    list(child(xml(parts.get('xl/_rels/workbook.xml.rels')), 'Relationships'), 'Relationship').map((r) => [attr(r, 'Id'), attr(r, 'Target') ?? '']),
  );
  const from1904 = ['1', 'true'].includes(attr(child(workbook, 'workbookPr') ?? {}, 'date1904') ?? '');
  const shared = list(child(xml(parts.get('xl/sharedStrings.xml')), 'sst'), 'si').map(stringItem);
  const context: CellContext = { shared, dates: dateStyles(xml(parts.get('xl/styles.xml'))), from1904 };
  const tables: SheetTable[] = [];
  for (const sheet of list(child(workbook, 'sheets'), 'sheet')) {
    // Hidden sheets hold lookups and helper data, not what a creator means to publish.
    if ((attr(sheet, 'state') ?? 'visible') !== 'visible') continue;
    const target = targets.get(attr(sheet, 'id'));
    const part = target ? parts.get(partName(target)) : undefined;
    if (!part) continue; // a chart sheet, or a part the archive lacks
    tables.push({ name: attr(sheet, 'name') ?? `Sheet ${tables.length + 1}`, rows: sheetRows(xml(part), context) });
  }
  return tables;
}
