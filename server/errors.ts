// Every refusal the server makes is an ApiError: an HTTP status, a stable machine code and a sentence a human can
// act on. Routes throw them; one error handler turns them (and fastify's own parse errors) into
// `{ "error": { "code", "message" } }` so clients never have to guess what went wrong.
import type { z } from 'zod';
import { CodedError } from '../core/crypto/coded-error.ts';

export class ApiError extends CodedError<string> {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly retryAfterSeconds: number | null;
  constructor(status: number, code: string, message: string, retryAfterSeconds: number | null = null) {
    super(code, message);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export const badRequest = (message: string, code = 'bad_request') => new ApiError(400, code, message);
export const unauthorized = (message: string, code = 'unauthorized') => new ApiError(401, code, message);
export const forbidden = (message: string, code = 'forbidden') => new ApiError(403, code, message);
export const notFound = (message: string, code = 'not_found') => new ApiError(404, code, message);
export const conflict = (message: string, code = 'conflict') => new ApiError(409, code, message);

/**
 * True for "no room left": the database reached its configured cap or the disk is full (SQLITE_FULL), or a file
 * write found no space (ENOSPC). Such a request changed nothing and can be retried once space is freed.
 */
export function isStorageFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_FULL') || code === 'ENOSPC');
}

export const STORAGE_FULL_MESSAGE = 'the server is out of storage space; nothing was stored, retry later';

/** Validates untrusted input against a schema; the first issue becomes a 400 that names the offending field. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, what = 'request body'): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join('.') : what;
  throw badRequest(`${where}: ${issue.message}`, 'invalid_input');
}
