// Reads a snapshot the three ways restore and status do, in a fresh process, and prints the peak resident
// memory growth of each pass as JSON. Run: node --expose-gc --import tsx scan-memory.ts FILE
// Peak RSS comes from Linux's VmHWM, reset before each pass through /proc/self/clear_refs ("5").
import { readFileSync, writeFileSync } from 'node:fs'
import { openEtcdSnapshot } from '../../../core/snapshot/etcd-snapshot'

function kib(field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))
  if (!match) throw new Error(`no ${field} in /proc/self/status`)
  return Number(match[1])
}

function measure<T>(pass: () => T): { result: T; rssGrowthBytes: number } {
  ;(globalThis as { gc?: () => void }).gc?.()
  writeFileSync('/proc/self/clear_refs', '5')
  const before = kib('VmRSS')
  const result = pass()
  return { result, rssGrowthBytes: (kib('VmHWM') - before) * 1024 }
}

const snapshot = openEtcdSnapshot(process.argv[2])
const status = measure(() => snapshot.status())
const revisions = measure(() => {
  let count = 0
  let valueBytes = 0
  for (const { kv } of snapshot.revisions()) {
    count++
    valueBytes += kv.value.length
  }
  return { count, valueBytes }
})
const latest = measure(() => {
  let count = 0
  for (const kv of snapshot.latestState()) count += kv.key.length > 0 ? 1 : 0
  return count
})
snapshot.close()
process.stdout.write(
  `${JSON.stringify({
    status: status.result,
    statusRssGrowthBytes: status.rssGrowthBytes,
    revisionCount: revisions.result.count,
    revisionValueBytes: revisions.result.valueBytes,
    revisionsRssGrowthBytes: revisions.rssGrowthBytes,
    liveKeys: latest.result,
    latestStateRssGrowthBytes: latest.rssGrowthBytes,
  })}\n`,
)
