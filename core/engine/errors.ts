// Engine failures a caller can act on. They cross the API as ApiErrors with the same code, and their messages
// are written for the person reading them: no keys, no plaintext.
import { ApiError } from '../api/contract.ts';
import { ProtocolError } from '../protocol/errors.ts';

export type EngineErrorCode =
  | 'NOT_FOUND' | 'INVALID' | 'FORBIDDEN' | 'HOSTILE_SERVER' | 'OFFLINE' | 'NOT_ENROLLED' | 'ALREADY_ENROLLED' | 'LOCKED' | 'CONFLICT' | 'VAULT';

export class EngineError extends ApiError {
  constructor(code: EngineErrorCode, message: string) {
    super(code, message);
  }
}

/** What a `message.undecryptable` event says about a failure: a protocol code or our own message, never internals. */
export function describeFailure(error: unknown): string {
  if (error instanceof ProtocolError) return error.code;
  if (error instanceof EngineError) return error.message;
  return (error as Error)?.name ?? 'error';
}
