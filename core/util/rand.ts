/** A source of randomness handed to code that must stay deterministic under test (Raft election jitter). */
export interface Rand {
  /** A float in [0, 1). */
  next(): number
  /** An integer in [0, n), n >= 1. */
  int(n: number): number
}

/**
 * Seeded PRNG (mulberry32): the same seed gives the same sequence on every machine, so a failing randomised
 * test is replayed exactly from its printed seed. Not for cryptography.
 */
export function seededRand(seed: number): Rand {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
  }
}

/** Unseeded randomness for production (election jitter of a real member). */
export const systemRand: Rand = {
  next: () => Math.random(),
  int: (n: number) => Math.floor(Math.random() * n),
}
