import type { ClusterEvidence, MemberEvidence, MetricsEvidence } from '../../core/advisor/types'

/** A healthy-looking member on its own host with TLS; override any part. */
export function member(index: number, overrides: Partial<MemberEvidence> = {}): MemberEvidence {
  return {
    id: (0x1000 + index).toString(16),
    name: `m${index}`,
    clientUrls: [`https://10.0.0.${index}:2379`],
    peerUrls: [`https://10.0.0.${index}:2380`],
    isLearner: false,
    status: { version: '3.5.17', dbSizeBytes: 1_000_000, dbSizeInUseBytes: 900_000, leader: '1001', raftTerm: 2, errors: [] },
    statusError: null,
    metricsUrl: `https://10.0.0.${index}:2379/metrics`,
    metrics: metrics(),
    metricsError: null,
    clockSkewMs: -400,
    leaderChangesSampled: null,
    ...overrides,
  }
}

/** A /metrics reading with fast disks, one election, 2 GiB quota; override any part. */
export function metrics(overrides: Partial<MetricsEvidence> = {}): MetricsEvidence {
  return {
    engine: 'etcd',
    serverVersion: '3.5.17',
    leaderChanges: 1,
    uptimeSeconds: 7200,
    // 100 observations, all under 2 ms.
    walFsync: { bounds: [0.001, 0.002, 0.004, Infinity], counts: [50, 100, 100, 100] },
    backendCommit: { bounds: [0.001, 0.002, 0.004, Infinity], counts: [50, 100, 100, 100] },
    quotaBytes: 2 * 1024 ** 3,
    dbSizeBytes: 1_000_000,
    dbSizeInUseBytes: 900_000,
    ...overrides,
  }
}

/** A well-run 3-member cluster (no finding worse than ok); override any part. */
export function evidence(overrides: Partial<ClusterEvidence> = {}): ClusterEvidence {
  return {
    collectedAt: '2026-11-25T12:00:00.000Z',
    endpoints: ['https://10.0.0.1:2379'],
    clusterId: 'abc',
    members: [member(1), member(2), member(3)],
    memberListError: null,
    alarms: [],
    authEnabled: true,
    clientCertRequired: true,
    certificates: [{ file: 'ca.crt', role: 'ca', subject: 'CN=ca', notAfter: '2027-11-25T00:00:00.000Z' }],
    lastSuccessfulBackup: '2026-11-25T06:00:00.000Z',
    lastPassingDrill: '2026-11-22T12:00:00.000Z',
    ...overrides,
  }
}

/** The time the fixture's ages are measured against. */
export const NOW = new Date('2026-11-25T12:00:00.000Z')
