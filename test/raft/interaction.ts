// The transcript interpreter: runs the commands of test/raft/testdata/*.txt against a simulated cluster and
// returns the text output (via core/raft/describe.ts). Modelled on etcd-io/raft's rafttest interaction env.
import { ProposalDroppedError } from '../../core/raft/errors'
import { describeEntries, describeMessage, describeReady, describeStatus, describeId } from '../../core/raft/describe'
import { ConfChangeType, StateType, type NodeId } from '../../core/raft/types'
import type { Rand } from '../../core/util/rand'
import { Cluster, type NodeOptions } from './sim/cluster'

const zeroRand: Rand = { next: () => 0, int: () => 0 }
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Parses `1 2 3` / `(1,2,3)` lists of node ids. */
function ids(args: string[]): NodeId[] {
  return args.flatMap((a) => a.replace(/[()]/g, '').split(',')).filter((a) => a !== '').map((a) => BigInt(a))
}

/** Interprets one transcript; state persists across commands. */
export class Interaction {
  private cluster: Cluster | undefined
  private options: NodeOptions = {}
  private electionTick = 10
  private heartbeatTick = 1

  private get c(): Cluster {
    if (!this.cluster) throw new Error('add-nodes first')
    return this.cluster
  }

  /** Runs `line` and returns its output lines. */
  run(line: string): string[] {
    const [cmd, ...args] = line.trim().split(/\s+/)
    const out: string[] = []
    const kv = new Map(args.filter((a) => a.includes('=')).map((a) => a.split('=') as [string, string]))
    const plain = args.filter((a) => !a.includes('='))
    switch (cmd) {
      case 'add-nodes':
        this.addNodes(Number(plain[0]), kv, plain.slice(1), out)
        break
      case 'campaign':
        this.c.get(BigInt(plain[0])).node.campaign()
        break
      case 'propose':
        this.tryPropose(out, () => this.c.get(BigInt(plain[0])).node.propose(enc(plain[1])))
        break
      case 'propose-conf-change': {
        const m = /^([vlr])(\d+)$/.exec(plain[1])
        if (!m) throw new Error(`bad conf change ${plain[1]}`)
        const type = { v: ConfChangeType.AddNode, l: ConfChangeType.AddLearnerNode, r: ConfChangeType.RemoveNode }[m[1] as 'v' | 'l' | 'r']
        const nodeId = BigInt(m[2])
        if (type !== ConfChangeType.RemoveNode && !this.c.nodes.has(nodeId)) this.c.addNode(nodeId)
        this.tryPropose(out, () => this.c.get(BigInt(plain[0])).node.proposeConfChange({ type, nodeId, context: new Uint8Array(0) }))
        break
      }
      case 'transfer-leadership':
        this.c.get(BigInt(kv.get('from') ?? '0')).node.transferLeader(BigInt(kv.get('to') ?? '0'))
        break
      case 'read-index':
        this.c.get(BigInt(plain[0])).node.readIndex(enc(plain[1]))
        break
      case 'tick-election':
        // Jitter is pinned to 0, so exactly electionTick ticks fire the election timeout.
        this.c.tick(BigInt(plain[0]), this.electionTick)
        break
      case 'tick-heartbeat':
        this.c.tick(BigInt(plain[0]), this.heartbeatTick)
        break
      case 'process-ready':
        for (const id of ids(plain)) this.processReady(id, out)
        break
      case 'deliver-msgs':
        for (const id of ids(plain)) this.deliverTo(id, out)
        break
      case 'drop-msgs':
        for (const id of ids(plain)) {
          for (const m of this.c.inflight.filter((x) => x.to === id)) out.push(`dropped: ${describeMessage(m)}`)
          this.c.inflight = this.c.inflight.filter((x) => x.to !== id)
        }
        break
      case 'stabilize':
        this.stabilize(plain.length > 0 ? ids(plain) : [...this.c.nodes.keys()], out)
        break
      case 'partition': {
        const groups = args.join(' ').split('|').map((g) => ids(g.trim().split(/\s+/)))
        this.c.heal()
        this.c.partition(...groups)
        break
      }
      case 'isolate':
        this.c.isolate(BigInt(plain[0]))
        break
      case 'heal':
        this.c.heal()
        break
      case 'crash':
        this.c.crash(BigInt(plain[0]))
        break
      case 'restart':
        this.c.restart(BigInt(plain[0]))
        break
      case 'compact': {
        const id = BigInt(plain[0])
        this.c.compact(id, Number(kv.get('keep') ?? 0))
        const st = this.c.get(id).storage
        out.push(`${describeId(id)}: snapshot at ${st.snapshot().metadata.index}, first index ${st.firstIndex()}`)
        break
      }
      case 'raft-log': {
        const log = this.c.get(BigInt(plain[0])).node.raft.raftLog
        const entries = log.allEntries()
        out.push(entries.length === 0 ? `log is empty: first index=${log.firstIndex()}, last index=${log.lastIndex()}` : describeEntries(entries))
        break
      }
      case 'status':
        out.push(describeStatus(this.c.get(BigInt(plain[0])).node.status()))
        break
      case 'raft-state':
        for (const n of this.c.nodes.values()) {
          const r = n.node.raft
          const role = r.trk.config.voters.has(n.id) ? 'Voter' : r.trk.config.learners.has(n.id) ? 'Learner' : 'None'
          const down = this.c.down.has(n.id) ? ' (down)' : this.c.removed.has(n.id) ? ' (removed)' : ''
          out.push(`${describeId(n.id)}: State${StateType[r.state]} (${role}) Term:${r.term} Lead:${describeId(r.lead)}${down}`)
        }
        break
      default:
        throw new Error(`unknown command ${cmd}`)
    }
    return out
  }

  private addNodes(n: number, kv: Map<string, string>, flags: string[], out: string[]): void {
    if (!this.cluster) {
      this.electionTick = Number(kv.get('election') ?? 10)
      this.heartbeatTick = Number(kv.get('heartbeat') ?? 1)
      this.options = {
        electionTick: this.electionTick,
        heartbeatTick: this.heartbeatTick,
        preVote: flags.includes('prevote'),
        checkQuorum: flags.includes('checkquorum') || flags.includes('lease'),
        readOnlyOption: flags.includes('lease') ? 'lease-based' : 'safe',
        maxInflightMsgs: Number(kv.get('inflight') ?? 256),
        maxSizePerMsg: Number(kv.get('maxsize') ?? 1024 * 1024),
      }
      this.cluster = new Cluster(this.options)
      this.cluster.nodeRand = () => zeroRand
    }
    const c = this.cluster
    const voters = kv.has('voters') ? ids([kv.get('voters') as string]) : []
    const learners = kv.has('learners') ? ids([kv.get('learners') as string]) : []
    const start = c.nodes.size + 1
    for (let i = 0; i < n; i++) {
      const id = BigInt(start + i)
      const node = c.addNode(id)
      if (voters.length > 0) {
        node.node.bootstrap(voters, learners)
        c.handleReady(id)
      }
      out.push(`${describeId(id)}: ${voters.length > 0 ? `bootstrapped voters=(${voters.join(',')})${learners.length ? ` learners=(${learners.join(',')})` : ''}` : 'started empty'}`)
    }
  }

  private tryPropose(out: string[], f: () => void): void {
    try {
      f()
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e
      out.push(`error: ${e.message}`)
    }
  }

  private processReady(id: NodeId, out: string[]): boolean {
    const rd = this.c.handleReady(id)
    if (!rd) return false
    out.push(`${describeId(id)} handling Ready:`, ...indent(describeReady(rd)))
    return true
  }

  private deliverTo(id: NodeId, out: string[]): boolean {
    const msgs = this.c.inflight.filter((m) => m.to === id)
    if (msgs.length === 0) return false
    out.push(`${describeId(id)} receiving messages:`)
    for (const m of msgs) out.push(`  ${describeMessage(m)}`)
    this.c.deliverAll(id)
    return true
  }

  private stabilize(nodes: NodeId[], out: string[]): void {
    for (let round = 0; round < 100; round++) {
      let moved = false
      for (const id of nodes) if (this.processReady(id, out)) moved = true
      for (const id of nodes) if (this.deliverTo(id, out)) moved = true
      if (!moved) return
    }
    throw new Error('stabilize: no fixpoint within 100 rounds')
  }
}

function indent(text: string): string[] {
  return text.split('\n').map((l) => `  ${l}`)
}
