import { describe, expect, test } from 'vitest'
import { defineRandomSuite } from './random-suite'
import { runSchedule } from './schedule'

defineRandomSuite(0, 2)

describe('randomised schedules: negative control', () => {
  test('a host that sends messages before persisting the Ready is caught', () => {
    let caught: unknown
    for (let s = 1; s <= 1000 && caught === undefined; s++) {
      try {
        runSchedule(s, undefined, true)
      } catch (e) {
        caught = e
      }
    }
    expect(caught).toBeInstanceOf(Error)
    expect(String(caught)).toMatch(/^\w*Error: seed \d+/)
  }, 60_000)
})
