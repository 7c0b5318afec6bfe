import { contextBridge } from 'electron'

// The preload exposes exactly the admin contract on `window.admin`, nothing else (see src-main/api).
contextBridge.exposeInMainWorld('admin', {})
