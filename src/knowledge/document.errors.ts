import { AppError } from '../errors/app.errors.js';
import { SUPPORTED_MEDIA_TYPES, SUPPORTED_TYPES_DESCRIPTION } from '../../rag/loaders/media-type.js';

/** The upload is of a type no loader reads; the response lists the ones we do. */
export class UnsupportedMediaTypeError extends AppError {
  constructor(received: string | undefined) {
    super(
      'UNSUPPORTED_MEDIA_TYPE',
      415,
      `${received ? `Files of type ${received} are` : 'This kind of file is'} not supported; upload ${SUPPORTED_TYPES_DESCRIPTION}`,
      { supported: [...SUPPORTED_MEDIA_TYPES], ...(received ? { received } : {}) },
    );
  }
}
