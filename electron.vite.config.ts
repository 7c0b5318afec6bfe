import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'

// Three bundles, one config:
// - main: the Electron main process (`index`) and the `quorum` CLI (`cli`), which also runs every cluster
//   member as `node out/main/cli.js node ...`. Both are plain Node ESM; dependencies stay external.
// - preload: CommonJS on purpose, so the BrowserWindow can keep `sandbox: true` (an ESM preload cannot).
// - renderer: the Vue app, served from file:// in Electron and over 127.0.0.1 in web mode.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      lib: {
        entry: {
          index: resolve(__dirname, 'src-main/index.ts'),
          cli: resolve(__dirname, 'src-main/cli.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      lib: { entry: resolve(__dirname, 'src-main/preload/index.ts') },
      rollupOptions: {
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    base: './',
    plugins: [vue()],
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      minify: true,
      chunkSizeWarningLimit: 2048,
      rollupOptions: { input: resolve(__dirname, 'src-renderer/index.html') },
    },
  },
})
