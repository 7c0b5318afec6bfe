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

/** The part of a recorded backup run the advisor reads (core/storage BackupRunRecord has these fields). */
export interface BackupRunFacts {
  status: 'ok' | 'failed'
  finishedMs: number
  drillResult: 'pass' | 'fail' | null
}

/**
 * The advisor's view of the backup service's recorded runs of ONE cluster (the caller picks the runs, e.g.
 * `history.list(name)`, so the advisor's cluster key is not used). A drill runs right after its backup and
 * the record keeps no drill time, so a passing drill is dated by its backup's end.
 */
export function backupHistoryFromRuns(runs: () => readonly BackupRunFacts[]): BackupHistory {
  const newest = (match: (run: BackupRunFacts) => boolean): Date | null => {
    const times = runs().filter(match).map((run) => run.finishedMs)
    return times.length === 0 ? null : new Date(Math.max(...times))
  }
  return {
    lastSuccessfulBackup: () => newest((run) => run.status === 'ok'),
    lastPassingDrill: () => newest((run) => run.status === 'ok' && run.drillResult === 'pass'),
  }
}
