// Engine failures a caller can act on. They cross the API as ApiErrors with the same code, and their messages
// are written for the person reading them: no keys, no plaintext.
import { ApiError, type ErrorCode } from '../api/contract.ts';
import { ProtocolError } from '../protocol/errors.ts';

/** The codes the engine throws itself: a subset of the contract's ErrorCode (a code outside it does not compile). */
export type EngineErrorCode = Subset<ErrorCode,
  'NOT_FOUND' | 'INVALID' | 'FORBIDDEN' | 'HOSTILE_SERVER' | 'OFFLINE' | 'NOT_ENROLLED' | 'ALREADY_ENROLLED' | 'LOCKED' | 'CONFLICT' | 'VAULT' | 'CANCELLED' | 'RELAY' | 'UNTRUSTED_RELAY'>;
type Subset<All extends string, Some extends All> = Some;

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
