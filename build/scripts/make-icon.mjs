#!/usr/bin/env node
// Draws Quorum's app icon (three members in a triangle, the leader highlighted, joined by their peer links)
// as a 1024x1024 PNG: build/icons/icon.png. electron-builder derives the .icns/.ico/Linux sizes from it.
// Run it again after changing the drawing: `node build/scripts/make-icon.mjs`.
import { writeFileSync } from 'node:fs'
import { deflateSync } from 'node:zlib'

const SIZE = 1024
const pixels = new Float64Array(SIZE * SIZE * 4) // premultiplied RGBA in 0..1

/** Alpha-composites `color` over the pixel at (x, y) with `coverage` in 0..1. */
function blend(x, y, [r, g, b], coverage) {
  if (coverage <= 0) return
  const i = (y * SIZE + x) * 4
  const keep = 1 - coverage
  pixels[i] = r * coverage + pixels[i] * keep
  pixels[i + 1] = g * coverage + pixels[i + 1] * keep
  pixels[i + 2] = b * coverage + pixels[i + 2] * keep
  pixels[i + 3] = coverage + pixels[i + 3] * keep
}

/** Fills every pixel whose signed distance `sdf(px, py)` is negative, anti-aliased over one pixel. */
function fill(sdf, color) {
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) blend(x, y, color, Math.min(1, Math.max(0, 0.5 - sdf(x + 0.5, y + 0.5))))
  }
}

const rgb = (hex) => [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16) / 255)
const circle = (cx, cy, radius) => (x, y) => Math.hypot(x - cx, y - cy) - radius
const roundedSquare = (inset, radius) => (x, y) => {
  const half = SIZE / 2 - inset - radius
  const dx = Math.max(Math.abs(x - SIZE / 2) - half, 0)
  const dy = Math.max(Math.abs(y - SIZE / 2) - half, 0)
  return Math.hypot(dx, dy) - radius
}
const segment = (ax, ay, bx, by, width) => (x, y) => {
  const [vx, vy, wx, wy] = [bx - ax, by - ay, x - ax, y - ay]
  const t = Math.max(0, Math.min(1, (wx * vx + wy * vy) / (vx * vx + vy * vy)))
  return Math.hypot(wx - t * vx, wy - t * vy) - width / 2
}

const members = [0, 1, 2].map((k) => {
  const angle = -Math.PI / 2 + (k * 2 * Math.PI) / 3
  return [SIZE / 2 + 250 * Math.cos(angle), SIZE / 2 + 40 + 250 * Math.sin(angle)]
})
fill(roundedSquare(64, 180), rgb('#1d2b45'))
for (let k = 0; k < 3; k++) {
  const [a, b] = [members[k], members[(k + 1) % 3]]
  fill(segment(a[0], a[1], b[0], b[1], 34), rgb('#5b7bb0'))
}
members.forEach(([cx, cy], k) => {
  fill(circle(cx, cy, 118), rgb('#1d2b45'))
  fill(circle(cx, cy, 100), rgb(k === 0 ? '#36ad6a' : '#4f9ee8'))
})

// PNG: 8-bit RGBA, one zlib stream, CRC-32 per chunk (https://www.w3.org/TR/png/).
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
const crc32 = (bytes) => {
  let c = 0xffffffff
  for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
const chunk = (type, data) => {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const out = Buffer.alloc(body.length + 8)
  out.writeUInt32BE(data.length, 0)
  body.copy(out, 4)
  out.writeUInt32BE(crc32(body), body.length + 4)
  return out
}
const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1))
for (let y = 0; y < SIZE; y++) {
  for (let x = 0; x < SIZE; x++) {
    const i = (y * SIZE + x) * 4
    const alpha = pixels[i + 3]
    const at = y * (SIZE * 4 + 1) + 1 + x * 4
    for (let c = 0; c < 3; c++) raw[at + c] = alpha > 0 ? Math.round((pixels[i + c] / alpha) * 255) : 0
    raw[at + 3] = Math.round(alpha * 255)
  }
}
const header = Buffer.alloc(13)
header.writeUInt32BE(SIZE, 0)
header.writeUInt32BE(SIZE, 4)
header.set([8, 6, 0, 0, 0], 8)
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
])
writeFileSync(new URL('../icons/icon.png', import.meta.url), png)
console.log(`build/icons/icon.png: ${SIZE}x${SIZE}, ${png.length} bytes`)
