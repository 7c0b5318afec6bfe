/** Runs `fn` and returns the `code` of what it threw (undefined when it threw nothing or no code). */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}
