// The best-practice advisor: gather evidence from a cluster, grade it against etcd's HA guidance. Import from here.
export { advise } from './advisor'
export { gatherEvidence, type GatherOptions } from './gather'
export { grade, score, sortFindings, SEVERITY_PENALTY } from './grade'
export { RULES, type Rule } from './rules'
export { versionNote, type VersionNote } from './versions'
export { NoBackupHistory, type BackupHistory } from './backup-history'
export * from './types'
