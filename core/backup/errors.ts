/** Why a backup or a drill failed; the history stores `code: message`, callers branch on `code`. */
export type BackupErrorCode =
  | 'BACKUP_SOURCE_FAILED' // the member could not be reached or the snapshot stream broke
  | 'BACKUP_CHECKSUM_MISMATCH' // etcd's sha256 trailer does not match the bytes before it
  | 'BACKUP_TRUNCATED' // the stream ended before a database and its 32-byte trailer arrived
  | 'BACKUP_WRITE_FAILED' // the destination could not be written (read-only, disk full, ...)
  | 'DRILL_FAILED' // the restore drill found the backup unusable or different from its metadata

/** An expected failure of a backup run or a drill; the message is meant for the user as is. */
export class BackupError extends Error {
  override name = 'BackupError'
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** `code: message` for errors with a code, the message otherwise: the reason stored in the history. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message
  }
  return String(error)
}
