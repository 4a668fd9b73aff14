import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { DEFAULT_LOAD_LIMITS, expandsTooMuch, isStackOverflow, NESTED_TOO_DEEPLY, type LoadLimits } from './load-limits.js';
import { isOleCompound, isZip, XLSX } from './media-type.js';
import { tablesToDocument } from './spreadsheet-table.js';
import { NotAWorkbookError, readWorkbook } from './xlsx-workbook.js';
import { DamagedArchiveError, inflateWithin } from './zip-inflate.js';

const DAMAGED = 'The Excel workbook could not be read (it may be damaged)';

// The parts cell text comes from; images, charts, printer settings and the rest stay packed.
const wanted = (name: string) =>
  name === 'xl/workbook.xml' || name === 'xl/_rels/workbook.xml.rels' || name === 'xl/sharedStrings.xml' || name === 'xl/styles.xml' || /^xl\/worksheets\/[^/]+\.xml$/.test(name);

/** Excel workbooks (.xlsx): every visible sheet's rows as passages, located "sheet Plans, row 12"; FAQ sheets give FAQ pairs. */
export class XlsxLoader implements Loader {
  readonly mediaTypes = [XLSX] as const;

  constructor(private readonly limits: LoadLimits = DEFAULT_LOAD_LIMITS) {}

  async load(input: LoadInput): Promise<LoadedDocument> {
    if (isOleCompound(input.bytes)) {
      throw new DocumentLoadError('The workbook is password-protected or an old Excel file (.xls); save it as .xlsx without a password and upload it again');
    }
    if (!isZip(input.bytes)) throw new DocumentLoadError('The file is not a valid Excel workbook (.xlsx)');
    let document: LoadedDocument;
    try {
      // Every entry is inflated against the budget, the parts kept or not (zip bombs).
      const parts = inflateWithin(input.bytes, this.limits.maxDecompressedBytes, () => expandsTooMuch(this.limits), wanted);
      document = tablesToDocument(readWorkbook(parts));
    } catch (err) {
      if (err instanceof DamagedArchiveError) throw new DocumentLoadError(DAMAGED);
      if (err instanceof NotAWorkbookError) throw new DocumentLoadError('The file is a ZIP archive but not an Excel workbook');
      if (isStackOverflow(err)) throw new DocumentLoadError(NESTED_TOO_DEEPLY);
      if (err instanceof DocumentLoadError) throw err;
      throw new DocumentLoadError(DAMAGED);
    }
    if (document.pages.length === 0) throw new DocumentLoadError('The workbook has no rows with text');
    return document;
  }
}
