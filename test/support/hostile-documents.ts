/**
 * Hostile documents built in memory for the tests and benchmarks that check reading them is
 * bounded: a PDF of very many empty pages, Word documents with millions of paragraphs, a zip bomb
 * and deeply nested markup. Nothing here is stored in the repository.
 */
import { crc32, deflateRawSync } from 'node:zlib';

/** A well-formed PDF (correct xref) of `pages` empty pages: a few bytes each, all listed in one page tree. */
export function manyPagesPdf(pages: number): Buffer {
  const parts: string[] = ['%PDF-1.4\n'];
  let length = parts[0]!.length;
  const offsets: number[] = [];
  const add = (body: string) => {
    offsets.push(length);
    const text = `${offsets.length} 0 obj\n${body}\nendobj\n`;
    parts.push(text);
    length += text.length;
  };
  const kids = Array.from({ length: pages }, (_, i) => `${i + 3} 0 R`).join(' ');
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(`<< /Type /Pages /Kids [${kids}] /Count ${pages} >>`);
  for (let i = 0; i < pages; i++) add('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>');
  const xref = length;
  parts.push(`xref\n0 ${offsets.length + 1}\n0000000000 65535 f \n`);
  parts.push(offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join(''));
  parts.push(`trailer\n<< /Size ${offsets.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  return Buffer.from(parts.join(''), 'latin1');
}

interface ZipPart {
  name: string;
  data: Buffer;
  /** The uncompressed size written in the headers, when it should lie. */
  declaredSize?: number;
}

/** A ZIP archive of deflated entries, as Word writes them. */
export function zip(entries: ZipPart[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = deflateRawSync(entry.data, { level: 9 });
    const size = entry.declaredSize ?? entry.data.length;
    const crc = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const CONTENT_TYPES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>`;

const RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>`;

/** A minimal .docx whose body is `body` (WordprocessingML inside <w:body>). */
export function docx(body: string | Buffer, options: { declaredSize?: number } = {}): Buffer {
  const head = Buffer.from('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>');
  const tail = Buffer.from('</w:body></w:document>');
  const document = Buffer.concat([head, typeof body === 'string' ? Buffer.from(body) : body, tail]);
  return zip([
    { name: '[Content_Types].xml', data: Buffer.from(CONTENT_TYPES) },
    { name: '_rels/.rels', data: Buffer.from(RELS) },
    { name: 'word/document.xml', data: document, ...(options.declaredSize !== undefined ? { declaredSize: options.declaredSize } : {}) },
  ]);
}

/** A .docx of `count` short paragraphs: tiny once zipped, millions of elements once read. */
export function manyParagraphsDocx(count: number): Buffer {
  return docx(Buffer.from('<w:p><w:r><w:t>x</w:t></w:r></w:p>'.repeat(count)));
}

/** A .docx whose document part claims a few KB and inflates to `inflatedBytes` (blank space, compressing ~1000:1). */
export function zipBombDocx(inflatedBytes: number): Buffer {
  const paragraph = '<w:p><w:r><w:t>Bomb</w:t></w:r></w:p>';
  return docx(Buffer.concat([Buffer.from(paragraph), Buffer.alloc(inflatedBytes, 0x20)]), { declaredSize: 4096 });
}

/** A .docx whose paragraphs nest `depth` content controls deep. */
export function deeplyNestedDocx(depth: number): Buffer {
  const open = '<w:sdt><w:sdtContent>'.repeat(depth);
  const close = '</w:sdtContent></w:sdt>'.repeat(depth);
  return docx(`${open}<w:p><w:r><w:t>Deep</w:t></w:r></w:p>${close}`);
}

/** An HTML page of `depth` nested elements around one sentence. */
export function deeplyNestedHtml(depth: number): Buffer {
  return Buffer.from(`<!doctype html><html><head><title>Deep</title></head><body>${'<div>'.repeat(depth)}<p>Deep text.</p>${'</div>'.repeat(depth)}</body></html>`);
}
