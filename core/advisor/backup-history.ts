/**
 * Where the advisor learns about backups and restore drills of a cluster. The backup service (issue 9) will
 * implement it; until then {@link NoBackupHistory} answers null, so the backup rules say "no backup recorded".
 */
export interface BackupHistory {
  /** End time of the newest backup of the cluster that completed and verified; null when none is recorded. */
  lastSuccessfulBackup(clusterKey: string): Date | null
  /** End time of the newest restore drill of the cluster that passed; null when none is recorded. */
  lastPassingDrill(clusterKey: string): Date | null
}

/** The history before the backup service exists: nothing recorded for any cluster. */
export class NoBackupHistory implements BackupHistory {
  lastSuccessfulBackup(): Date | null {
    return null
  }

  lastPassingDrill(): Date | null {
    return null
  }
}
