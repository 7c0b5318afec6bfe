/** `1536` → `1.5 KiB`; null → `–`. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '–'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`
}

/** A number with thousands separators; null → `–`. */
export function formatCount(value: number | null): string {
  return value === null ? '–' : value.toLocaleString('en-US')
}

/** Wall-clock time of a timestamp, `14:03:27`. */
export function formatTime(ms: number): string {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false })
}
