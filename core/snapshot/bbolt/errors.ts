/** Why a bbolt file could not be read; callers branch on `code`, never on the message. */
export type BoltErrorCode =
  | 'BOLT_INVALID' // no valid meta page: not a bbolt file at all
  | 'BOLT_VERSION_MISMATCH' // a meta page with bbolt's magic but a format version other than 2
  | 'BOLT_CHECKSUM' // meta pages with the right magic and version, but neither checksum matches
  | 'BOLT_TRUNCATED' // the file ends before the high-water mark the meta page promises
  | 'BOLT_CORRUPT' // a page or element that breaks the format's invariants

/** An expected failure reading a bbolt file (bad input, not a bug in the reader). */
export class BoltError extends Error {
  override name = 'BoltError'
  constructor(
    readonly code: BoltErrorCode,
    message: string,
  ) {
    super(message)
  }
}
