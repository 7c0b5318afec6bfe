import { describe, expect, it } from 'vitest'
import { backupHistoryFromRuns } from '../../core/advisor/backup-history'

describe('advisor view of recorded backup runs', () => {
  it('the newest ok run is the last backup; a failed run or a failed drill does not count as a passing drill', () => {
    const history = backupHistoryFromRuns(() => [
      { status: 'ok', finishedMs: 1_000, drillResult: 'pass' },
      { status: 'ok', finishedMs: 3_000, drillResult: 'fail' },
      { status: 'failed', finishedMs: 5_000, drillResult: null },
    ])
    expect(history.lastSuccessfulBackup('any')?.getTime()).toBe(3_000)
    expect(history.lastPassingDrill('any')?.getTime()).toBe(1_000)
    expect(backupHistoryFromRuns(() => []).lastSuccessfulBackup('any')).toBeNull()
  })
})
