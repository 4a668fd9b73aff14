import { AppError } from '../errors/app.errors.js';
import type { TurnStage } from './types.js';

/**
 * A turn could not be completed. Carries the step that failed and the text already streamed to
 * the user, so the caller can decide whether a retry would repeat what the user has seen.
 */
export class TurnError extends AppError {
  constructor(
    readonly stage: TurnStage,
    override readonly cause: unknown,
    readonly partialReply: string,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('TURN_FAILED', cause instanceof AppError ? cause.status : 500, `The turn failed at ${stage}: ${reason}`);
    this.name = 'TurnError';
  }
}
