// Minimal types for hpack.js (RFC 7541), the subset core/server/h2-authority.ts uses.
declare module 'hpack.js' {
  interface HeaderField {
    name: string
    value: string
    huffman?: boolean
    neverIndex?: boolean
  }
  interface Compressor {
    write(headers: HeaderField[]): boolean
    read(): Buffer | null
  }
  interface Decompressor {
    write(block: Buffer): boolean
    execute(callback?: (error?: Error) => void): void
    read(): HeaderField | null
  }
  const hpack: {
    compressor: { create(options: { table: { maxSize: number } }): Compressor }
    decompressor: { create(options: { table: { maxSize: number } }): Decompressor }
  }
  export default hpack
}
