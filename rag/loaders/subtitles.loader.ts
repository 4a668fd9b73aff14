import { DocumentLoadError, type LoadedDocument, type LoadInput, type Loader } from '../types.js';
import { SRT, VTT, essence } from './media-type.js';
import { mergeCues, parseCues, SubtitleSyntaxError, type SubtitleFormat } from './subtitle-cues.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function formatOf(input: LoadInput): SubtitleFormat {
  if (essence(input.mediaType) === VTT) return 'vtt';
  if (essence(input.mediaType) === SRT) return 'srt';
  return /\.vtt$/i.test(input.filename ?? '') ? 'vtt' : 'srt';
}

/**
 * Subtitles and transcripts (SRT, WebVTT): cues merged into passages of a few sentences, each one
 * an entry located at its first cue's start time, so citations can say "at 04:31".
 */
export class SubtitlesLoader implements Loader {
  readonly mediaTypes = [SRT, VTT] as const;

  async load(input: LoadInput): Promise<LoadedDocument> {
    let text: string;
    try {
      text = utf8.decode(input.bytes);
    } catch {
      throw new DocumentLoadError('The subtitles are not readable text (they are binary or not UTF-8 encoded)');
    }
    const format = formatOf(input);
    const name = format === 'srt' ? 'SRT' : 'WebVTT';
    let passages;
    try {
      passages = mergeCues(parseCues(text, format));
    } catch (err) {
      if (err instanceof SubtitleSyntaxError) throw new DocumentLoadError(`The ${name} subtitles could not be read: ${err.message}`);
      throw err;
    }
    if (passages.length === 0) throw new DocumentLoadError(`The ${name} subtitles contain no captions`);
    return { pages: passages.map((p) => ({ location: { kind: 'time', value: p.start }, text: p.text })), format: 'text' };
  }
}
