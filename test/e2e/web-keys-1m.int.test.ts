import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdClient } from '../../core/client'
import { ARTIFACTS, startKeysE2e, type KeysE2e } from './web-keys-support'

// The Keys page over a million keys (web mode, Chromium, real etcd 3.4): time from the first tree page's
// answer to its frame, frame times while scrolling, paging through every key by scrolling, and the renderer's
// JS heap afterwards. Figures are printed as `[keys-1m] ...`; the asserts are generous bounds, not targets.
// NB: loading a million keys into etcd 3.4 takes 35-90 s on a shared 2-core machine, beyond this area's
// test-time budget, so CI runs 200k keys; the acceptance run is `QUORUM_KEYS_1M=1000000` (figures in the
// issue's closing note).

const TOTAL = Number(process.env.QUORUM_KEYS_1M ?? 200_000)
/** Puts per Txn: etcd is started with a matching --max-txn-ops. */
const TXN_PUTS = 10_000
const pad = (n: number) => String(n).padStart(7, '0')

async function load(endpoints: string[]): Promise<void> {
  const client = new EtcdClient({ endpoints, callTimeoutMs: 60_000 })
  try {
    let next = 0
    const worker = async () => {
      while (next < TOTAL) {
        const start = next
        next = Math.min(TOTAL, start + TXN_PUTS)
        const success = []
        for (let i = start; i < next; i++) success.push({ type: 'put' as const, key: `m/${pad(i)}`, value: 'v' })
        await client.kv.txn({ success })
      }
    }
    await Promise.all(Array.from({ length: 3 }, worker))
  } finally {
    client.close()
  }
}

describe('Keys page over a large keyspace: 200k keys in CI, 1M with QUORUM_KEYS_1M (Chromium, real etcd 3.4)', () => {
  let e2e: KeysE2e

  beforeAll(async () => {
    // Big Txns, and bbolt commits batched (by count/time, not per Txn): ~40% faster loading.
    e2e = await startKeysE2e('keys-1m', ['--max-txn-ops', String(TXN_PUTS), '--max-request-bytes', String(16 * 1024 * 1024), '--backend-batch-limit', '1000000', '--backend-batch-interval', '10s'])
    const started = Date.now()
    await load(e2e.etcd.endpoints.split(','))
    console.log(`[keys-1m] loaded ${TOTAL} keys into etcd 3.4 in ${Date.now() - started} ms`)
  }, 300_000)
  afterAll(async () => {
    await e2e?.stop()
  })

  it('renders the first tree page within 300 ms, scrolls smoothly, pages through every key by scrolling, and stays under 300 MB of JS heap', async () => {
    const { page, consoleErrors } = e2e
    const id = await e2e.saveConnection('million', true)
    await e2e.open(`/clusters/${id}/keys`)
    const revision = page.getByTestId('keys-revision')

    // Tree mode at the folder holding the million keys: the first page (200 entries) after its answer.
    await page.getByTestId('keys-prefix').locator('input').fill('m/')
    await page.getByTestId('keys-list').click()
    await expect.poll(() => revision.getAttribute('data-rows'), { timeout: 20_000 }).toBe('201')
    await expect.poll(async () => (await revision.getAttribute('data-first-render-ms')) !== '').toBe(true)
    const firstRenderMs = Number(await revision.getAttribute('data-first-render-ms'))
    console.log(`[keys-1m] first tree page rendered ${firstRenderMs} ms after the answer`)
    expect(firstRenderMs).toBeLessThan(300)
    expect(await page.getByTestId('keys-entry').first().innerText()).toBe('m/0000000')
    await page.screenshot({ path: join(ARTIFACTS, 'keys-1m-00-first-page.png') })

    // Flat list, then scroll to the end again and again: each "more" row that comes into view loads 10k keys.
    await page.getByTestId('keys-flat').click()
    await expect.poll(async () => [await revision.getAttribute('data-flat'), await revision.getAttribute('data-loading'), await revision.getAttribute('data-rows')], { timeout: 20_000 }).toEqual(['true', 'false', '201'])
    const pagingStarted = Date.now()
    const rows = await page.evaluate(async (total) => {
      const list = document.querySelector<HTMLElement>('[data-testid="keys-tree"] .v-vl')!
      const count = () => Number(document.querySelector<HTMLElement>('[data-testid="keys-revision"]')!.dataset.rows)
      const deadline = performance.now() + 240_000
      while (count() !== total && performance.now() < deadline) {
        const before = count()
        list.scrollTop = list.scrollHeight
        // Scroll again when nothing came within 2 s (the list may have re-rendered under us).
        const retryAt = performance.now() + 2000
        while (count() === before && performance.now() < Math.min(deadline, retryAt)) await new Promise((resolve) => setTimeout(resolve, 10))
      }
      return count()
    }, TOTAL)
    const pagingMs = Date.now() - pagingStarted
    console.log(`[keys-1m] scrolled through ${rows} keys in ${pagingMs} ms (pages of 50k after the first 200)`)
    expect(rows).toBe(TOTAL)
    await page.evaluate(() => {
      const list = document.querySelector<HTMLElement>('[data-testid="keys-tree"] .v-vl')!
      list.scrollTop = list.scrollHeight
    })
    await expect.poll(() => page.getByTestId('keys-entry').last().innerText()).toBe(`m/${pad(TOTAL - 1)}`)
    await page.screenshot({ path: join(ARTIFACTS, 'keys-1m-01-last-page.png') })

    // Frame times while scrolling the loaded million from the middle, 100 rows per frame.
    const frames = await page.evaluate(async () => {
      const list = document.querySelector<HTMLElement>('[data-testid="keys-tree"] .v-vl')!
      list.scrollTop = list.scrollHeight / 2
      const deltas: number[] = []
      let last = await new Promise<number>((resolve) => requestAnimationFrame(resolve))
      for (let i = 0; i < 180; i++) {
        list.scrollTop += 2400
        const now = await new Promise<number>((resolve) => requestAnimationFrame(resolve))
        deltas.push(now - last)
        last = now
      }
      return deltas.sort((a, b) => a - b)
    })
    const p50 = frames[Math.floor(frames.length * 0.5)]!
    const p95 = frames[Math.floor(frames.length * 0.95)]!
    const max = frames.at(-1)!
    console.log(`[keys-1m] scroll frame times: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${max.toFixed(1)} ms (${frames.length} frames)`)
    expect(p95).toBeLessThan(100)

    // The renderer's JS heap after a full GC, holding a million rows.
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('HeapProfiler.collectGarbage')
    const heap = await cdp.send('Runtime.getHeapUsage')
    const heapMb = heap.usedSize / 1024 / 1024
    console.log(`[keys-1m] renderer JS heap after scrolling through ${TOTAL} keys: ${heapMb.toFixed(1)} MB used (${(heap.totalSize / 1024 / 1024).toFixed(1)} MB total)`)
    expect(heapMb).toBeLessThan(300)
    expect(consoleErrors).toEqual([])
  }, 300_000)
})
