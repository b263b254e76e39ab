/**
 * Every failure a user can cause or meet is a RechunkerError: a stable `code` that scripts can
 * match, a one-line message that names what and where (image, layer, path), and an exit status.
 * Anything else that escapes is a bug and is reported as such.
 */
export type ErrorCode =
  | 'BAD_REFERENCE' // a reference that does not parse
  | 'NOT_FOUND' // image, tag, blob or file missing
  | 'DIGEST_MISMATCH' // blob bytes do not hash to their descriptor's digest
  | 'SIZE_MISMATCH' // blob length differs from its descriptor's size
  | 'CORRUPT_BLOB' // compressed stream broken or truncated
  | 'BAD_MANIFEST' // manifest, index or config that does not parse or validate
  | 'BAD_TAR' // malformed tar header or archive
  | 'UNSAFE_PATH' // tar path that could escape: '..', absolute, NUL
  | 'UNSUPPORTED' // valid input we do not handle (sparse files, unknown media type)
  | 'PLATFORM' // no manifest for the requested platform
  | 'REGISTRY' // registry answered with an error
  | 'AUTH' // credentials missing or refused
  | 'NETWORK' // connection failure after retries
  | 'USAGE' // flags that make no sense together
  | 'IO'; // local filesystem failure

export class RechunkerError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RechunkerError';
    this.code = code;
    this.exitCode = options.exitCode ?? (code === 'USAGE' ? 2 : 1);
  }
}

/** Prefix an error's message with where it happened, keeping its code; once, if a stage below already did. */
export function withContext(err: unknown, where: string): RechunkerError {
  if (err instanceof RechunkerError) {
    // Some messages name the place at their end ("unsafe path X in WHERE").
    if (err.message.startsWith(`${where}: `) || err.message.endsWith(` in ${where}`)) return err;
    const wrapped = new RechunkerError(err.code, `${where}: ${err.message}`, {
      cause: err.cause,
      exitCode: err.exitCode,
    });
    return wrapped;
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return new RechunkerError('NOT_FOUND', `${where}: ${e.message}`, { cause: err });
  if (e?.code === 'Z_BUF_ERROR' || e?.code === 'Z_DATA_ERROR' || /unexpected end of file/i.test(e?.message ?? '')) {
    return new RechunkerError('CORRUPT_BLOB', `${where}: compressed data is corrupt or truncated (${e.message})`, {
      cause: err,
    });
  }
  if (typeof e?.code === 'string' && e.code.startsWith('E')) {
    return new RechunkerError('IO', `${where}: ${e.message}`, { cause: err });
  }
  return new RechunkerError('IO', `${where}: ${e?.message ?? String(err)}`, { cause: err });
}
