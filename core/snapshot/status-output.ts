// Renders snapshot status exactly as `etcdctl snapshot status -w simple|table|json|fields` does (etcdctl 3.4
// ctlv3/command/printer*.go, Apache-2.0), then adds the file format, which etcdctl does not print.

import { unreachable } from '../util/assert'
import type { EtcdSnapshotStatus } from './etcd-snapshot'

/** The `-w` choices of `quorum snapshot status`. */
export const STATUS_WRITE_OUTS = ['simple', 'table', 'json', 'fields'] as const
/** One of STATUS_WRITE_OUTS; `simple` is etcdctl's default. */
export type StatusWriteOut = (typeof STATUS_WRITE_OUTS)[number]

/** A status plus the format of the file it came from ("etcd-bbolt"). */
export interface SnapshotStatusReport extends EtcdSnapshotStatus {
  format: string
}

/**
 * The text `quorum snapshot status` prints, newline-terminated. simple and table are etcdctl's output
 * byte for byte, followed by one `format: ...` line; json is etcdctl's object with a trailing "format" field;
 * fields is etcdctl's `"Name" : value` lines plus a `"Format"` line.
 */
export function formatSnapshotStatus(report: SnapshotStatusReport, writeOut: StatusWriteOut): string {
  const row = [report.hash.toString(16), String(report.revision), String(report.totalKey), humanizeBytes(report.totalSize)]
  switch (writeOut) {
    case 'simple':
      return `${row.join(', ')}\nformat: ${report.format}\n`
    case 'table':
      return `${renderTable(['hash', 'revision', 'total keys', 'total size'], row)}format: ${report.format}\n`
    case 'json':
      return `${JSON.stringify({
        hash: report.hash,
        revision: report.revision,
        totalKey: report.totalKey,
        totalSize: report.totalSize,
        format: report.format,
      })}\n`
    case 'fields':
      return (
        `"Hash" : ${report.hash}\n"Revision" : ${report.revision}\n"Keys" : ${report.totalKey}\n` +
        `"Size" : ${report.totalSize}\n"Format" : ${JSON.stringify(report.format)}\n`
      )
    default:
      return unreachable(writeOut, 'write-out format')
  }
}

const SI_SUFFIXES = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB']

/**
 * go-humanize `Bytes` (MIT), which etcdctl uses for TOTAL SIZE: SI units (base 1000), one decimal below 10,
 * none above. NB: Go's %.0f rounds a tie to even (20.5 -> "20"), JavaScript's toFixed rounds it up.
 */
export function humanizeBytes(bytes: number): string {
  if (bytes < 10) return `${bytes} B`
  const exponent = Math.floor(Math.log(bytes) / Math.log(1000))
  const suffix = SI_SUFFIXES[exponent]
  // val = floor(s / 1000^e * 10 + 0.5) / 10, kept as an integer number of tenths to round like Go.
  const tenths = Math.floor((bytes / 1000 ** exponent) * 10 + 0.5)
  if (tenths < 100) return `${Math.floor(tenths / 10)}.${tenths % 10} ${suffix}`
  const whole = Math.floor(tenths / 10)
  const fraction = tenths % 10
  const rounded = fraction > 5 || (fraction === 5 && whole % 2 === 1) ? whole + 1 : whole
  return `${rounded} ${suffix}`
}

// olekukonko/tablewriter as etcdctl configures it: headers upper-cased and centred (extra space on the right),
// cells right-aligned, one space of padding, +---+ borders.
function renderTable(headers: readonly string[], row: readonly string[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, row[i].length))
  const border = `+${widths.map((width) => '-'.repeat(width + 2)).join('+')}+\n`
  const centre = (text: string, width: number) => {
    const left = Math.floor((width - text.length) / 2)
    return ' '.repeat(left) + text + ' '.repeat(width - text.length - left)
  }
  const header = `|${headers.map((text, i) => ` ${centre(text.toUpperCase(), widths[i])} `).join('|')}|\n`
  const body = `|${row.map((text, i) => ` ${text.padStart(widths[i])} `).join('|')}|\n`
  return border + header + border + body + border
}
