import { contextBridge, ipcRenderer } from 'electron'
import { buildAdminBridge } from './bridge'

// The preload (bundled as CommonJS, out/preload/index.cjs, so the window keeps `sandbox: true`) exposes
// exactly the admin contract on `window.admin`, nothing else (see src-main/api/admin-api.ts).
contextBridge.exposeInMainWorld('admin', buildAdminBridge(ipcRenderer))
