// Engine failures a caller can act on. They cross the API as ApiErrors with the same code, and their messages
// are written for the person reading them: no keys, no plaintext.
import { ApiError } from '../api/contract.ts';

export type EngineErrorCode =
  | 'NOT_FOUND' | 'INVALID' | 'FORBIDDEN' | 'HOSTILE_SERVER' | 'OFFLINE' | 'NOT_ENROLLED' | 'ALREADY_ENROLLED' | 'LOCKED' | 'CONFLICT' | 'VAULT'
  | 'UNTRUSTED_RELAY';

export class EngineError extends ApiError {
  constructor(code: EngineErrorCode, message: string) {
    super(code, message);
  }
}
