import { InvalidArgumentError } from 'commander'

/** Parses a base-10 integer flag value within [min, max]; commander turns the error into a usage error (exit 2). */
export function intOption(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`not an integer: ${value}`)
    const parsed = Number(value)
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`must be between ${min} and ${max}`)
    }
    return parsed
  }
}

/** Parses a flag value that must be one of `choices`. */
export function choiceOption<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`must be one of ${choices.join(', ')}`)
    }
    return value as T
  }
}

/** Parses a comma-separated list flag value, dropping empty items. */
export function listOption(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0)
}
