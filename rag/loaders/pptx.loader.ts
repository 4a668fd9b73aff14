import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { archiveParts, resolvePart } from './archive-parts.js';
import { DEFAULT_LOAD_LIMITS, type LoadLimits } from './load-limits.js';
import { isOleCompound, isZip, PPTX } from './media-type.js';
import { attribute, child, children, descendants, localName, parseXml, textOf, type XmlElement } from './xml-tree.js';

const PRESENTATION = 'ppt/presentation.xml';
const PRESENTATION_RELS = 'ppt/_rels/presentation.xml.rels';
// Slides, their relationships (to find their notes) and the notes; pictures and media are never inflated.
const TEXT_PARTS = /^ppt\/(presentation\.xml|_rels\/presentation\.xml\.rels|slides\/[^/]+\.xml|slides\/_rels\/[^/]+\.rels|notesSlides\/[^/]+\.xml)$/;
const NOTES_RELATIONSHIP = /\/notesSlide$/;
const TITLE_PLACEHOLDERS = new Set(['title', 'ctrTitle']);
// Slide furniture, not content: the slide number, date and footer; on notes pages also the slide's picture and header.
const FURNITURE = new Set(['sldNum', 'dt', 'ftr', 'hdr', 'sldImg']);
const ENCRYPTED_PACKAGE = Buffer.from('EncryptedPackage', 'utf16le');

/** One slide's text: its title, its other text in the order of the slide's shapes, its speaker notes. */
export interface SlideText {
  number: number;
  title: string | undefined;
  body: string[];
  notes: string[];
}

function placeholderType(shape: XmlElement): string | undefined {
  const properties = children(shape).find((c) => localName(c.name).startsWith('nv'));
  const placeholder = child(child(properties, 'nvPr'), 'ph');
  return placeholder ? (attribute(placeholder, 'type') ?? 'body') : undefined;
}

/** A text body's paragraphs as lines (line breaks inside a paragraph kept, empty paragraphs dropped). */
function paragraphs(body: XmlElement | undefined): string[] {
  return descendants(body, 'p')
    .map((p) =>
      children(p)
        .map((run) => (localName(run.name) === 'br' ? '\n' : localName(run.name) === 'r' || localName(run.name) === 'fld' ? textOf(child(run, 't')) : ''))
        .join('')
        .replace(/[^\S\n]+/g, ' ')
        .trim(),
    )
    .filter(Boolean);
}

function tableRows(frame: XmlElement): string[] {
  return descendants(frame, 'tr')
    .map((row) => children(row, 'tc').map((cell) => paragraphs(child(cell, 'txBody')).join(' ')).join(' | '))
    .filter((row) => row.replace(/[|\s]/g, ''));
}

/** Text blocks of a shape tree in its order (PowerPoint's reading order), titles apart. */
function shapeTexts(tree: XmlElement | undefined, into: { titles: string[]; blocks: string[] }): void {
  for (const shape of children(tree)) {
    switch (localName(shape.name)) {
      case 'grpSp':
        shapeTexts(shape, into);
        break;
      case 'graphicFrame':
        into.blocks.push(tableRows(shape).join('\n'));
        break;
      case 'sp': {
        const type = placeholderType(shape);
        if (type && FURNITURE.has(type)) break;
        const lines = paragraphs(child(shape, 'txBody'));
        if (type && TITLE_PLACEHOLDERS.has(type)) into.titles.push(lines.join(' '));
        else into.blocks.push(lines.join('\n'));
        break;
      }
      default:
        break;
    }
  }
}

function slideContent(xml: Buffer, what: string): { titles: string[]; blocks: string[] } {
  const root = parseXml(xml, what)[0];
  const into = { titles: [] as string[], blocks: [] as string[] };
  shapeTexts(child(child(root, 'cSld'), 'spTree'), into);
  return { titles: into.titles.filter(Boolean), blocks: into.blocks.filter(Boolean) };
}

/** Relationship id → part name, for a part's `.rels`. */
function relationships(rels: Buffer | undefined, of: string): Map<string, { type: string; part: string }> {
  const map = new Map<string, { type: string; part: string }>();
  if (!rels) return map;
  for (const rel of children(parseXml(rels, 'The presentation')[0], 'Relationship')) {
    const id = attribute(rel, 'Id');
    const target = attribute(rel, 'Target');
    if (id && target && attribute(rel, 'TargetMode') !== 'External') map.set(id, { type: attribute(rel, 'Type') ?? '', part: resolvePart(of, target) });
  }
  return map;
}

function relsOf(part: string): string {
  const at = part.lastIndexOf('/');
  return `${part.slice(0, at)}/_rels/${part.slice(at + 1)}.rels`;
}

/** Slide parts in the presentation's order (hidden slides keep their number, as PowerPoint counts them). */
function slideOrder(parts: Map<string, Buffer>): string[] {
  const presentation = parts.get(PRESENTATION);
  if (!presentation) throw new DocumentLoadError('The file is a ZIP archive but not a PowerPoint presentation');
  const rels = relationships(parts.get(PRESENTATION_RELS), PRESENTATION);
  const list = child(parseXml(presentation, 'The presentation')[0], 'sldIdLst');
  return children(list, 'sldId')
    .map((id) => rels.get(attribute(id, 'r:id') ?? attribute(id, 'id') ?? '')?.part)
    .filter((part): part is string => part !== undefined && parts.has(part));
}

/** Every slide of a .pptx with text, in order; throws DocumentLoadError for what cannot be read. */
export function readSlides(bytes: Uint8Array, limits: LoadLimits): SlideText[] {
  const parts = archiveParts(bytes, limits, (name) => TEXT_PARTS.test(name), 'The presentation');
  const order = slideOrder(parts);
  if (order.length > limits.maxPages) {
    throw new DocumentLoadError(`The presentation has more than ${limits.maxPages.toLocaleString('en-US')} slides (${order.length.toLocaleString('en-US')}); split it into smaller files`);
  }
  return order.map((part, index) => {
    const what = `Slide ${index + 1}`;
    const slide = slideContent(parts.get(part) as Buffer, what);
    const notesPart = [...relationships(parts.get(relsOf(part)), part).values()].find((r) => NOTES_RELATIONSHIP.test(r.type))?.part;
    const notesXml = notesPart ? parts.get(notesPart) : undefined;
    const notes = notesXml ? slideContent(notesXml, `The notes of slide ${index + 1}`) : { titles: [], blocks: [] };
    return { number: index + 1, title: slide.titles.join(' — ') || undefined, body: slide.blocks, notes: notes.blocks };
  });
}

/** A slide as Markdown: its title as a heading, its text, then its speaker notes. */
export function slideMarkdown(slide: SlideText): string {
  const parts = [...(slide.title ? [`# ${slide.title}`] : []), ...slide.body];
  if (slide.notes.length > 0) parts.push(`Speaker notes:\n${slide.notes.join('\n')}`);
  return parts.join('\n\n');
}

/** PowerPoint (.pptx): one entry per slide with text, located at its number ("slide 12"), speaker notes included. */
export class PptxLoader implements Loader {
  readonly mediaTypes = [PPTX] as const;

  constructor(private readonly limits: LoadLimits = DEFAULT_LOAD_LIMITS) {}

  async load(input: LoadInput): Promise<LoadedDocument> {
    if (isOleCompound(input.bytes)) {
      const encrypted = Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength).indexOf(ENCRYPTED_PACKAGE) !== -1;
      throw new DocumentLoadError(
        encrypted
          ? 'The presentation is password-protected; remove the password in PowerPoint and upload it again'
          : 'Old PowerPoint presentations (.ppt) are not supported; save the file as .pptx and upload it again',
      );
    }
    if (!isZip(input.bytes)) throw new DocumentLoadError('The file is not a valid PowerPoint presentation (.pptx)');
    const slides = readSlides(input.bytes, this.limits);
    const pages = slides
      .map((slide) => ({ slide, text: slideMarkdown(slide) }))
      .filter(({ text }) => text.trim())
      .map(({ slide, text }) => ({ location: { kind: 'slide' as const, value: slide.number }, ...(slide.title ? { section: slide.title } : {}), text }));
    if (pages.length === 0) throw new DocumentLoadError('The presentation contains no text');
    return { title: slides.find((s) => s.title)?.title, pages, format: 'markdown' };
  }
}
