/** Thrown when an invariant is broken; the member stops (fail-stop) rather than continue with bad state. */
export class AssertionError extends Error {
  override name = 'AssertionError'
}

/**
 * Checks an invariant. Put the numbers in the message (`commit 12 out of range [lastIndex 9]`) so a failure
 * can be understood from the log alone.
 */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionError(typeof message === 'function' ? message() : message)
}

/** Ends a `switch` over a union: the compiler proves it unreachable, and a bad runtime value still fails loudly. */
export function unreachable(value: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`)
}

/** Asserts that `value` is a safe non-negative integer (terms, indexes, revisions) and returns it. */
export function safeIndex(value: number, what: string): number {
  assert(Number.isSafeInteger(value) && value >= 0, () => `${what} ${value} is not a safe non-negative integer`)
  return value
}
