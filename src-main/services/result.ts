import type { AdminErrorCode, Result } from '../api/admin-api'

/** A successful Result. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value }
}

/** A failed Result with a code the renderer maps to user text. */
export function fail<T = never>(code: AdminErrorCode, message: string): Result<T> {
  return { ok: false, error: { code, message } }
}

/** An expected service failure; `toResult` turns it into a failed Result at the contract edge. */
export class ServiceError extends Error {
  constructor(
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** Runs `work` and wraps its value; a ServiceError becomes a failed Result, anything else is rethrown. */
export async function toResult<T>(work: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return ok(await work())
  } catch (error) {
    if (error instanceof ServiceError) return fail(error.code, error.message)
    throw error
  }
}
