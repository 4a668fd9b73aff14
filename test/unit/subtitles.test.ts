import { describe, expect, it } from 'vitest';
import { createLoaderRegistry } from '../../rag/loaders/loader-registry.js';
import { detectMediaType, PLAIN_TEXT, SRT, VTT } from '../../rag/loaders/media-type.js';
import { mergeCues, parseCues } from '../../rag/loaders/subtitle-cues.js';
import { TextSplitter } from '../../rag/split.js';
import { DocumentLoadError } from '../../rag/types.js';
import { citationLines, distinctSources } from '../../src/conversation/citations.js';
import { locationLabel } from '../../src/conversation/source-location.js';

const loaders = createLoaderRegistry();

async function loadFailure(bytes: string | Buffer, mediaType: string, filename: string): Promise<string> {
  try {
    await loaders.load({ bytes: typeof bytes === 'string' ? Buffer.from(bytes) : bytes, mediaType, filename });
  } catch (err) {
    expect(err).toBeInstanceOf(DocumentLoadError);
    return (err as Error).message;
  }
  throw new Error('expected the file to be refused');
}

// A lesson as a course platform exports it: CRLF line ends, a byte-order mark, styling, entities,
// a multi-line cue, and a cue past the first hour.
const lessonSrt =
  '\uFEFF' +
  [
    '1',
    '00:00:01,000 --> 00:00:03,500',
    'Welcome to <i>week two</i> of the course.',
    '',
    '2',
    '00:00:03,600 --> 00:00:06,000 X1:100 X2:200 Y1:10 Y2:50',
    '{\\an8}Today we look at sleep &amp; recovery.',
    '',
    '3',
    '00:04:31,200 --> 00:04:35,000',
    'Keep your <b>bedroom cool</b>,',
    'around eighteen degrees.',
    '',
    '4',
    '00:04:35,100 --> 00:04:38,000',
    'It helps you fall asleep faster.',
    '',
    '5',
    '01:02:07,250 --> 01:02:10,000',
    'That is all for today &#8212; see you next week!',
    '',
  ].join('\r\n');

const talkVtt = [
  'WEBVTT - a talk',
  'Kind: captions',
  '',
  'NOTE This file was edited by hand',
  'over two lines.',
  '',
  'STYLE',
  '::cue { color: yellow }',
  '',
  'REGION',
  'id:fred width:40%',
  '',
  'intro',
  '00:00:00.000 --> 00:00:02.000 align:start position:10%',
  '<v Coach Ana>Breathing is the fastest lever you have.',
  '',
  '00:00:02.100 --> 00:00:04.000',
  '<v Coach Ana>Breathe in for four counts.</v>',
  '',
  '00:00:04.100 --> 00:00:06.000 line:0',
  '<v.loud Sam>What about <c.highlight>holding</c> the breath?',
  '',
  '01:00.000 --> 01:03.000',
  '<v Coach Ana>Hold for four &lt;then&gt; out for four.',
  '',
].join('\n');

describe('SRT', () => {
  it('reads cues with their times, styling and entities removed, multi-line cues joined', () => {
    const cues = parseCues(lessonSrt, 'srt');
    expect(cues.map((c) => c.start)).toEqual([1, 3.6, 271.2, 275.1, 3727.25]);
    expect(cues[1]?.text).toBe('Today we look at sleep & recovery.');
    expect(cues[2]?.text).toBe('Keep your bedroom cool,\naround eighteen degrees.');
    expect(cues[4]?.text).toBe('That is all for today — see you next week!');
  });

  it('merges cues into passages, each at its first cue’s time, a long pause starting a new one', async () => {
    const loaded = await loaders.load({ bytes: Buffer.from(lessonSrt), mediaType: 'application/x-subrip', filename: 'lesson.srt' });
    expect(loaded.pages).toEqual([
      { location: { kind: 'time', value: 1 }, text: 'Welcome to week two of the course. Today we look at sleep & recovery.' },
      { location: { kind: 'time', value: 271.2 }, text: 'Keep your bedroom cool, around eighteen degrees. It helps you fall asleep faster.' },
      { location: { kind: 'time', value: 3727.25 }, text: 'That is all for today — see you next week!' },
    ]);
    expect(loaded.pages.map((p) => locationLabel(p.location!))).toEqual(['at 00:01', 'at 04:31', 'at 1:02:07']);
  });

  it('ends a passage after a few sentences', () => {
    const cues = Array.from({ length: 7 }, (_, i) => ({ start: i * 2, end: i * 2 + 1.5, text: `Sentence number ${i + 1}.` }));
    expect(mergeCues(cues).map((p) => p.start)).toEqual([0, 6, 12]);
  });

  it('keeps only the new line of roll-up captions that repeat the previous one', () => {
    const rollUp = ['1', '00:00:01,000 --> 00:00:02,000', 'so the first habit', '', '2', '00:00:02,000 --> 00:00:03,000', 'so the first habit', 'is a glass of water', '', '3', '00:00:03,000 --> 00:00:04,000', 'is a glass of water', 'every morning.', ''].join('\n');
    expect(mergeCues(parseCues(rollUp, 'srt'))).toEqual([{ start: 1, text: 'so the first habit is a glass of water every morning.' }]);
  });

  it('keeps text after a blank line inside a cue with that cue', () => {
    const gap = ['1', '00:00:01,000 --> 00:00:02,000', 'First part,', '', 'second part.', '', '2', '00:00:02,500 --> 00:00:03,000', 'Next cue.', ''].join('\n');
    expect(parseCues(gap, 'srt').map((c) => [c.start, c.text])).toEqual([
      [1, 'First part,\nsecond part.'],
      [2.5, 'Next cue.'],
    ]);
  });

  it('refuses a corrupt file naming the line and what was expected', async () => {
    const corrupt = ['1', '00:00:01,000 --> 00:00:02,000', 'Fine so far.', '', '2', '00:00:02;000 -> 00:00:03,000', 'Broken timing.', ''].join('\n');
    expect(await loadFailure(corrupt, 'application/x-subrip', 'broken.srt')).toBe(
      'The SRT subtitles could not be read: line 6: expected a timestamp like 00:01:02,500 --> 00:01:04,000',
    );
    expect(await loadFailure('Just some notes\nabout sleep\n', 'application/x-subrip', 'notes.srt')).toBe(
      'The SRT subtitles could not be read: line 1: expected a timestamp like 00:01:02,500 --> 00:01:04,000',
    );
    expect(await loadFailure(Buffer.from([0xff, 0xfe, 0x00, 0x31]), 'application/x-subrip', 'utf16.srt')).toMatch(/not UTF-8/);
    expect(await loadFailure('1\n00:00:01,000 --> 00:00:02,000\n<i></i>\n', 'application/x-subrip', 'empty.srt')).toMatch(/contain no captions/);
  });
});

describe('WebVTT', () => {
  it('skips NOTE, STYLE and REGION blocks and cue settings, names speakers when they change', async () => {
    const loaded = await loaders.load({ bytes: Buffer.from(talkVtt), mediaType: 'text/vtt', filename: 'talk.vtt' });
    expect(loaded.pages).toEqual([
      {
        location: { kind: 'time', value: 0 },
        text: 'Coach Ana: Breathing is the fastest lever you have. Breathe in for four counts. Sam: What about holding the breath?',
      },
      { location: { kind: 'time', value: 60 }, text: 'Coach Ana: Hold for four <then> out for four.' },
    ]);
  });

  it('refuses a file without the WEBVTT header, and a cue without timing, by line', async () => {
    expect(await loadFailure('00:00.000 --> 00:01.000\nHello\n', 'text/vtt', 'a.vtt')).toBe(
      'The WebVTT subtitles could not be read: line 1: expected the WebVTT header "WEBVTT"',
    );
    expect(await loadFailure('WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n\nhello again\nno timing here\n', 'text/vtt', 'b.vtt')).toBe(
      'The WebVTT subtitles could not be read: line 6: expected a timestamp like 00:01:02.500 --> 00:01:04.000',
    );
  });

  it('is recognised by type, by name when sent as text/plain, and by its header', () => {
    const bytes = Buffer.from(talkVtt);
    expect(detectMediaType(bytes, 'text/vtt')).toBe(VTT);
    expect(detectMediaType(bytes, 'text/plain', 'talk.vtt')).toBe(VTT);
    expect(detectMediaType(bytes, 'text/plain', 'talk.txt')).toBe(VTT);
    expect(detectMediaType(Buffer.from(lessonSrt), 'application/octet-stream', 'lesson.SRT')).toBe(SRT);
    expect(detectMediaType(Buffer.from(lessonSrt), 'text/plain', 'lesson.srt')).toBe(SRT);
    expect(detectMediaType(Buffer.from('Notes'), 'text/plain', 'notes.txt')).toBe(PLAIN_TEXT);
  });
});

describe('locations through splitting and citations', () => {
  it('never merges passages of different times into one chunk; an over-long passage keeps its time in every piece', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `Point ${i} about steady sleep.`).join(' ');
    const drafts = await new TextSplitter({ chunkSize: 200, chunkOverlap: 20 }).split({
      format: 'text',
      pages: [
        { location: { kind: 'time', value: 5 }, text: 'Short first passage.' },
        { location: { kind: 'time', value: 271 }, text: long },
      ],
    });
    expect(drafts[0]).toEqual({ ordinal: 0, location: { kind: 'time', value: 5 }, text: 'Short first passage.' });
    expect(drafts.length).toBeGreaterThan(3);
    expect(drafts.slice(1).every((d) => d.location?.value === 271)).toBe(true);
  });

  it('cites times and slides in the short form, merged per document', () => {
    const video = { documentId: 'doc-video', title: 'Week 2 video' };
    const sources = distinctSources([
      { id: 1, ...video, text: 'a', location: { kind: 'time', value: 431.5 } },
      { id: 2, ...video, text: 'b', location: { kind: 'time', value: 271.2 } },
      { id: 3, documentId: 'doc-deck', title: 'Deck', text: 'c', location: { kind: 'slide', value: 12 } },
      { id: 4, documentId: 'doc-long', title: 'Live call', text: 'd', location: { kind: 'time', value: 3727 } },
      { id: 5, documentId: 'doc-pdf', title: 'Guide', text: 'e', page: 4 },
    ]);
    expect(sources[1]).toEqual({ ...video, location: { kind: 'time', value: 271.2, label: 'at 04:31' } });
    expect(sources[4]).toEqual({ documentId: 'doc-pdf', title: 'Guide', page: 4, location: { kind: 'page', value: 4, label: 'p. 4' } });
    expect(citationLines(sources)).toEqual(['— Week 2 video, at 04:31, 07:11', '— Deck, slide 12', '— Live call, at 1:02:07', '— Guide, p. 4']);
  });
});
