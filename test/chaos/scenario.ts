import { seededRand } from '../../core/util/rand'
import { checkHistory, type CheckReport, type Violation } from './checker/index'
import { startEtcdUnderTest, startQuorumUnderTest, type ClusterUnderTest } from './cluster'
import { checkConvergence, type Convergence } from './convergence'
import { coreClientDriver } from './drivers/core-client'
import { etcd3Driver } from './drivers/etcd3'
import type { ClientDriver, ClientName, WatchRecorder } from './drivers/types'
import { injectFaults, LivenessError, type FaultFamily, type FaultRecord } from './faults'
import { HistoryRecorder, monotonicMs, type History } from './history'
import { RecordingClient } from './recording-client'
import { KEY_PREFIX, startWatchers, Workload } from './workload'

/** The scenarios `npm run chaos -- --scenario NAME` knows; one fault family each. */
export const SCENARIOS: Record<string, { fault: FaultFamily; description: string; advisory?: string }> = {
  baseline: { fault: 'none', description: 'no fault: traffic only (calibrates the checkers)' },
  'kill-leader': { fault: 'kill-leader', description: 'kill -9 the leader, restart it, repeat' },
  'kill-follower': { fault: 'kill-follower', description: 'kill -9 a follower, restart it, repeat' },
  'kill-random': { fault: 'kill-random', description: 'kill -9 a random member, restart it, repeat' },
  'pause-leader': { fault: 'pause-leader', description: 'SIGSTOP the leader past the election timeout, SIGCONT, repeat' },
  'pause-follower': { fault: 'pause-follower', description: 'SIGSTOP a follower, SIGCONT, repeat' },
  'pause-random': { fault: 'pause-random', description: 'SIGSTOP a random member, SIGCONT, repeat' },
  'partition-leader': { fault: 'partition-leader', description: 'isolate the leader from its peers (nftables in a private netns), heal, repeat' },
  'partition-follower': { fault: 'partition-follower', description: 'isolate a follower from its peers, heal, repeat' },
  'flaky-network': { fault: 'flaky-network', description: 'drop 20-40% of every peer link\'s packets (nftables numgen) for 2-4 s, heal, repeat' },
  'slow-network': { fault: 'slow-network', description: 'throttle the loopback (peers and clients) to 128-512 kbit/s with tc tbf for 2-4 s, repeat' },
  'clock-jump': { fault: 'clock-jump', description: "jump the leader's wall clock 20-40 s ahead (libfaketime) for 2-4 s, then back, repeat" },
  'disk-full': {
    fault: 'disk-full',
    description: "fill the members' data disk (a 256 MiB tmpfs) to ENOSPC under load for 2-4 s, free it, restart stopped members, repeat",
    // Reported, not gating, until the storage fix lands (then drop this line).
    advisory:
      'Quorum members fail-stop on SQLITE_FULL, then refuse to restart: core/storage/member-db.ts checkSqliteHeader calls the db "truncated" when a checkpoint hit ENOSPC, although the WAL still holds the pages and SQLite opens it with integrity_check ok',
  },
  'member-replace': { fault: 'member-replace', description: 'remove a follower, then the leader, under load; wipe it; add a fresh member on its URLs (half as learner + promote)' },
}

/** True if the scenario changes the network (partitions, loss, shaping) or mounts a disk, so it needs private namespaces. */
export function needsPartitions(scenario: string): boolean {
  const fault = SCENARIOS[scenario]?.fault ?? 'none'
  return fault.startsWith('partition') || fault.endsWith('network') || fault === 'disk-full'
}

/** Targets the harness can start: real etcd 3.4 (the calibration reference) or a local Quorum cluster. */
export type Target = 'etcd' | 'quorum'

/** The full tier (`--full`): every scenario the target supports, this long and with at least this many faults. */
export const FULL_TIER = { durationS: 20, minFaults: 9 }

/** Whether the target's adapter can inject the scenario's faults (membership and clock faults: Quorum only). */
export function targetSupports(target: Target, scenario: string): boolean {
  const fault = SCENARIOS[scenario]?.fault
  return target === 'quorum' || (fault !== 'member-replace' && fault !== 'clock-jump' && fault !== 'disk-full')
}

/** One run's parameters. */
export interface ScenarioOptions {
  scenario: string
  seed: number
  durationS: number
  target: Target
  /** Client library the harness drives the cluster with (default etcd3, an independent implementation). */
  client?: ClientName
  /** Negative control: serializable reads recorded as linearizable. The checkers must find violations. */
  lieAboutSerializableReads?: boolean
  /** Keep injecting (and the traffic running) past the duration until this many faults were injected. */
  minFaults?: number
  clients?: number
  timeoutMs?: number
  thinkMs?: number
}

/** Everything one run produced. Times are monotonic ms (the history's clock). */
export interface ScenarioResult {
  options: ScenarioOptions
  cluster: string
  faults: FaultRecord[]
  history: History
  /** The checkers' verdict; `check.violations` holds only violations that are not known target bugs. */
  check: CheckReport
  /** Violations matching one of the target's known upstream bugs, with the bug's reference. */
  knownViolations: Array<Violation & { reference: string }>
  /** HashKV of every member at the final revision; null when there was no final revision. */
  convergence: Convergence | null
  /** How long the final write took after healing (the liveness probe), in ms; null if it never succeeded. */
  recoveryMs: number | null
  trafficMs: number
  totalMs: number
  error?: string
}

async function startCluster(target: Target, scenario: string): Promise<ClusterUnderTest> {
  const partitionable = needsPartitions(scenario)
  switch (target) {
    case 'etcd':
      return startEtcdUnderTest({ size: 3, snapshotCount: 500, partitionable })
    case 'quorum':
      return startQuorumUnderTest({
        size: 3,
        snapshotCount: 500,
        partitionable: partitionable && SCENARIOS[scenario]?.fault !== 'disk-full',
        fakeClocks: SCENARIOS[scenario]?.fault === 'clock-jump',
        diskBytes: SCENARIOS[scenario]?.fault === 'disk-full' ? 256 * 2 ** 20 : undefined,
      })
  }
}

/**
 * After healing: write `chaos/final` through all members until it is acknowledged (liveness), then wait for
 * every watcher to deliver its revision. Returns the final revision and how long the write took.
 */
async function settle(cluster: ClusterUnderTest, recorder: HistoryRecorder, driver: ClientDriver, watchers: WatchRecorder[], deadlineMs: number) {
  const started = monotonicMs()
  const client = new RecordingClient(recorder, 1000, driver.connect(cluster.members.map((m) => m.clientUrl)), { timeoutMs: 2000 })
  let finalRevision: number | undefined
  try {
    for (let attempt = 0; finalRevision === undefined && monotonicMs() < deadlineMs; attempt++) {
      const { response } = await client.send({ kind: 'put', key: `${KEY_PREFIX}final`, value: `final-${attempt}` })
      if (response) finalRevision = response.revision
      else await new Promise((resolve) => setTimeout(resolve, 200))
    }
  } finally {
    client.close()
  }
  const recoveryMs = finalRevision === undefined ? null : monotonicMs() - started
  while (finalRevision !== undefined && watchers.some((w) => w.lastRevision < finalRevision) && monotonicMs() < deadlineMs) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { finalRevision, recoveryMs }
}

/** Starts a fresh cluster, runs traffic with the scenario's faults, heals, checks, and stops the cluster. */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const spec = SCENARIOS[options.scenario]
  if (!spec) throw new Error(`unknown scenario ${options.scenario}; known: ${Object.keys(SCENARIOS).join(', ')}`)
  const began = monotonicMs()
  const rand = seededRand(options.seed)
  const cluster = await startCluster(options.target, options.scenario)
  const recorder = new HistoryRecorder()
  const faults: FaultRecord[] = []
  let error: string | undefined
  let settled: { finalRevision?: number; recoveryMs: number | null } = { recoveryMs: null }
  let trafficMs = 0
  let convergence: Convergence | null = null
  try {
    const driver = options.client === 'core' ? coreClientDriver : etcd3Driver
    const watchers = await startWatchers(cluster, recorder, driver)
    const workload = new Workload(cluster, recorder, driver, rand, {
      clients: options.clients ?? 6,
      timeoutMs: options.timeoutMs ?? 1000,
      thinkMs: options.thinkMs ?? 4,
      lieAboutSerializableReads: options.lieAboutSerializableReads,
    })
    const trafficStart = monotonicMs()
    workload.start()
    try {
      await injectFaults(cluster, spec.fault, rand, trafficStart + options.durationS * 1000, faults, options.minFaults)
      const remaining = trafficStart + options.durationS * 1000 - monotonicMs()
      if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining))
    } catch (caught) {
      error = caught instanceof LivenessError ? `liveness: ${caught.message}` : String(caught)
    } finally {
      await workload.stop()
      trafficMs = monotonicMs() - trafficStart
    }
    settled = await settle(cluster, recorder, driver, watchers, monotonicMs() + 30_000)
    if (settled.recoveryMs === null) error ??= 'liveness: the final write was never acknowledged within 30 s'
    await Promise.all(watchers.map((w) => w.stop()))
    if (settled.finalRevision !== undefined) convergence = await checkConvergence(cluster.members, settled.finalRevision)
  } finally {
    await cluster.stop()
  }
  const history = recorder.history(settled.finalRevision)
  const check = checkHistory(history)
  const knownViolations: ScenarioResult['knownViolations'] = []
  check.violations = check.violations.filter((v) => {
    const known = cluster.knownIssues.find((issue) => issue.code === v.code)
    if (known) knownViolations.push({ ...v, reference: known.reference })
    return !known
  })
  if (check.violations.length === 0 && check.linearizable === 'no') check.linearizable = check.inconclusiveKeys.length > 0 ? 'unknown' : 'yes'
  return { options, cluster: cluster.label, faults, history, check, knownViolations, convergence, recoveryMs: settled.recoveryMs, trafficMs, totalMs: monotonicMs() - began, error }
}
