/** Thrown for a string that is not a Go duration. */
export class DurationParseError extends Error {
  readonly code = 'INVALID_DURATION'
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
}

/**
 * Parses a Go `time.Duration` string (`1h30m`, `5s`, `250ms`, `0`) into milliseconds, as etcd's duration flags
 * take them (`--grpc-keepalive-min-time 5s`). Fractions are allowed (`1.5h`); a sign is not.
 */
export function parseGoDuration(text: string): number {
  const input = text.trim()
  if (input === '0') return 0
  const pattern = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y
  let total = 0
  let position = 0
  while (position < input.length) {
    pattern.lastIndex = position
    const match = pattern.exec(input)
    if (!match) throw new DurationParseError(`time: invalid duration "${text}"`)
    total += Number(match[1]) * UNIT_MS[match[2]]
    position = pattern.lastIndex
  }
  if (input.length === 0) throw new DurationParseError(`time: invalid duration "${text}"`)
  return total
}
