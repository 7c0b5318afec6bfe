/**
 * Renders rows as the ASCII table etcdctl prints (`-w table`): a header row, `+---+` rules, cells padded to
 * the widest value, centered headers.
 */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)))
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`
  const center = (text: string, width: number) => {
    const left = Math.floor((width - text.length) / 2)
    return ' '.repeat(left) + text + ' '.repeat(width - text.length - left)
  }
  const line = (cells: readonly string[], align: (text: string, width: number) => string) =>
    `|${cells.map((cell, i) => ` ${align(cell ?? '', widths[i])} `).join('|')}|`
  return [
    rule,
    line(headers, center),
    rule,
    ...rows.map((row) => line(row, (text, width) => text.padEnd(width))),
    rule,
  ].join('\n')
}

/** Bytes as etcdctl prints sizes (`20 kB`, `1.2 MB`; powers of 1000). */
export function humanBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return unit === 0 ? `${value} B` : `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
}
