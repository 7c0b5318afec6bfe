import { describe, expect, it } from 'vitest'
import { backupFileName, parseBackupFileName, safeClusterName } from '../../core/backup/files'
import { applyRetention, type RetainedCandidate } from '../../core/backup/retention'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

// Backups named after their time, every `stepMs` from `fromIso` to `toIso` inclusive.
function series(fromIso: string, toIso: string, stepMs: number): RetainedCandidate[] {
  const out: RetainedCandidate[] = []
  for (let t = Date.parse(fromIso); t <= Date.parse(toIso); t += stepMs) out.push({ name: backupFileName('prod', t), takenMs: t })
  return out
}

const names = (...isos: string[]) => isos.map((iso) => backupFileName('prod', Date.parse(iso)))

describe('retention', () => {
  it('keep-last N keeps exactly the N newest and removes the rest', () => {
    const candidates = series('2026-11-25T00:00:00Z', '2026-11-25T09:00:00Z', HOUR)
    const { keep, remove } = applyRetention(candidates, { keepLast: 3 }, Date.parse('2026-11-25T09:30:00Z'))
    expect(keep).toEqual(names('2026-11-25T09:00:00Z', '2026-11-25T08:00:00Z', '2026-11-25T07:00:00Z'))
    expect(remove).toHaveLength(7)
    expect(new Set([...keep, ...remove]).size).toBe(10)
  })

  it('hourly and daily tiers keep the newest backup in each of the last H hours and D UTC days', () => {
    const candidates = series('2026-11-23T00:00:00Z', '2026-11-25T12:00:00Z', 30 * MINUTE)
    const { keep } = applyRetention(candidates, { keepLast: 2, hourly: 3, daily: 3 }, Date.parse('2026-11-25T12:10:00Z'))
    expect(keep).toEqual(
      names('2026-11-25T12:00:00Z', '2026-11-25T11:30:00Z', '2026-11-25T10:30:00Z', '2026-11-24T23:30:00Z', '2026-11-23T23:30:00Z'),
    )
  })

  it('weekly tier buckets weeks from Monday 00:00 UTC (Sunday belongs to the week before)', () => {
    // 2026-11-25 is a Wednesday; 2026-11-22 a Sunday; 2026-11-16 and 2026-11-09 are Mondays.
    const candidates = series('2026-11-01T00:00:00Z', '2026-11-25T00:00:00Z', DAY)
    const { keep } = applyRetention(candidates, { keepLast: 1, weekly: 3 }, Date.parse('2026-11-25T06:00:00Z'))
    expect(keep).toEqual(names('2026-11-25T00:00:00Z', '2026-11-22T00:00:00Z', '2026-11-15T00:00:00Z'))
  })

  it('a tier counts time buckets, not backups: an empty hour is not filled from further back', () => {
    const candidates = [
      { name: 'a', takenMs: Date.parse('2026-11-25T12:00:00Z') },
      { name: 'b', takenMs: Date.parse('2026-11-25T08:00:00Z') },
    ]
    const { keep, remove } = applyRetention(candidates, { keepLast: 1, hourly: 3 }, Date.parse('2026-11-25T12:30:00Z'))
    expect(keep).toEqual(['a'])
    expect(remove).toEqual(['b'])
  })

  it('backups from the future (clock stepped back) are kept only by keep-last, never fill a bucket', () => {
    const candidates = [
      { name: 'future', takenMs: Date.parse('2026-11-25T15:00:00Z') },
      { name: 'now', takenMs: Date.parse('2026-11-25T12:00:00Z') },
    ]
    expect(applyRetention(candidates, { keepLast: 1, hourly: 1 }, Date.parse('2026-11-25T12:30:00Z')).keep).toEqual(['future', 'now'])
  })
})

describe('backup file names', () => {
  it('encode cluster and UTC time and parse back to the same millisecond', () => {
    const takenMs = Date.parse('2026-11-25T17:04:29.123Z')
    const name = backupFileName('prod-eu', takenMs)
    expect(name).toBe('prod-eu-20261125T170429.123Z.db')
    expect(parseBackupFileName(name)).toEqual({ cluster: 'prod-eu', takenMs })
    expect(parseBackupFileName(`${name}.json`)).toBeNull()
    expect(parseBackupFileName('.prod-eu-20261125T170429.123Z.db.tmp')).toBeNull()
  })

  it('replace path separators and other unsafe characters in the cluster name', () => {
    expect(safeClusterName('../etc/x y')).toBe('.._etc_x_y')
    expect(backupFileName('', 0)).toBe('cluster-19700101T000000.000Z.db')
  })
})
