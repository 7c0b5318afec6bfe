import { describe, expect, it } from 'vitest'
import { formatSnapshotStatus, humanizeBytes } from '../../core/snapshot/status-output'
import { fixtureText } from './fixtures/tiny'

const status = { ...JSON.parse(fixtureText('tiny.status.json')), format: 'etcd-bbolt' }

describe('snapshot status output (etcdctl printer_simple/table/json)', () => {
  it('simple is etcdctl -w simple byte for byte, then a format line', () => {
    expect(formatSnapshotStatus(status, 'simple')).toBe(`${fixtureText('tiny.status.simple.txt')}format: etcd-bbolt\n`)
  })

  it('table is etcdctl -w table byte for byte, then a format line', () => {
    expect(formatSnapshotStatus(status, 'table')).toBe(`${fixtureText('tiny.status.table.txt')}format: etcd-bbolt\n`)
  })

  it('fields is etcdctl -w fields byte for byte, then a "Format" line', () => {
    expect(formatSnapshotStatus(status, 'fields')).toBe(`${fixtureText('tiny.status.fields.txt')}"Format" : "etcd-bbolt"\n`)
  })

  it('json has etcdctl keys and values, plus "format"', () => {
    const text = formatSnapshotStatus(status, 'json')
    expect(text.endsWith('}\n')).toBe(true)
    expect(JSON.parse(text)).toEqual({ ...JSON.parse(fixtureText('tiny.status.json')), format: 'etcd-bbolt' })
    expect(text.startsWith(fixtureText('tiny.status.json').trimEnd().slice(0, -1))).toBe(true)
  })

  it('table widens columns for long values and centres headers with the extra space on the right', () => {
    const text = formatSnapshotStatus({ hash: 0xabc, revision: 12345678901, totalKey: 7, totalSize: 5, format: 'x' }, 'table')
    expect(text.split('\n').slice(0, 5)).toEqual([
      '+------+-------------+------------+------------+',
      '| HASH |  REVISION   | TOTAL KEYS | TOTAL SIZE |',
      '+------+-------------+------------+------------+',
      '|  abc | 12345678901 |          7 |        5 B |',
      '+------+-------------+------------+------------+',
    ])
  })
})

describe('go-humanize Bytes (SI, as etcdctl prints TOTAL SIZE)', () => {
  it('prints bytes below 10 as is, one decimal below 10 units, none above', () => {
    expect(humanizeBytes(0)).toBe('0 B')
    expect(humanizeBytes(9)).toBe('9 B')
    expect(humanizeBytes(803)).toBe('803 B')
    expect(humanizeBytes(1000)).toBe('1.0 kB')
    expect(humanizeBytes(1024)).toBe('1.0 kB')
    expect(humanizeBytes(9999)).toBe('10 kB')
    expect(humanizeBytes(81920)).toBe('82 kB')
    expect(humanizeBytes(37_600_000)).toBe('38 MB')
    expect(humanizeBytes(2_150_000_000)).toBe('2.2 GB')
  })

  it("rounds a tie to even like Go's %.0f (etcdctl printed 20480 bytes as 20 kB)", () => {
    expect(humanizeBytes(20480)).toBe('20 kB')
    expect(humanizeBytes(21500)).toBe('22 kB')
  })
})
