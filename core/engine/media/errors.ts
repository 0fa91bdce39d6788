// Why an image could not be cleaned. It is an EngineError (INVALID), so it crosses the contract as one line the
// user can act on; the fuzz harness accepts it, and only it, from every parser here.
import { EngineError } from '../errors.ts';

export class ImageError extends EngineError {
  constructor(message: string) {
    super('INVALID', message);
  }
}

/** Throws unless `ok`: every read of a length or offset goes through this, so a lying header is a clear refusal. */
export function check(ok: boolean, format: string, what: string): asserts ok {
  if (!ok) refuse(format, what);
}

export function refuse(format: string, what: string): never {
  throw new ImageError(`this ${format} image is damaged (${what}), so its metadata cannot be removed safely; nothing was sent`);
}
