// Engine failures a caller can act on. They cross the API as ApiErrors with the same code, and their messages
// are written for the person reading them: no keys, no plaintext.
import { ApiError, type ErrorCode } from '../api/contract.ts';

/** The codes the engine throws itself: a subset of the contract's ErrorCode (a code outside it does not compile). */
export type EngineErrorCode = Subset<ErrorCode,
  'NOT_FOUND' | 'INVALID' | 'FORBIDDEN' | 'HOSTILE_SERVER' | 'OFFLINE' | 'NOT_ENROLLED' | 'ALREADY_ENROLLED' | 'LOCKED' | 'CONFLICT' | 'VAULT'>;
type Subset<All extends string, Some extends All> = Some;

export class EngineError extends ApiError {
  constructor(code: EngineErrorCode, message: string) {
    super(code, message);
  }
}
