// The base of every error that carries a machine-readable code, in core (the contract's ApiError, the vault, the
// protocol, the relay client) and in the server. A caller branches on `code` and shows `message`; `name` says
// which part refused, in logs and stack traces.
//
// It lives in core/crypto not because it is cryptography but because that is the one layer every other layer and
// the server may import (docs/architecture.md, layers). It imports nothing, so core/api, which must load where
// Node is absent, pulls in no libsodium through it.
export abstract class CodedError<Code extends string> extends Error {
  abstract override readonly name: string;
  readonly code: Code;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
