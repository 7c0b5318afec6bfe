import { describe, expect, it } from 'vitest'
import type { History, TxnWrite } from '../history'
import { checkHistory } from './index'
import { ScriptedHistory } from './sim-history'

/** Five writes (revisions 2..6, revision 4 a two-key txn), seen by two watchers; watcher 1 gets mutated. */
function fiveWrites(): History {
  const h = new ScriptedHistory()
  h.op(0, 0, 1, { kind: 'put', key: 'a', value: 'v1' })
  h.op(0, 2, 3, { kind: 'put', key: 'b', value: 'v2' })
  const writes: TxnWrite[] = [{ type: 'put', key: 'a', value: 'v3' }, { type: 'put', key: 'b', value: 'v4' }]
  h.op(0, 4, 5, { kind: 'txn', compares: [], success: writes, failure: [] })
  h.op(0, 6, 7, { kind: 'delete', key: 'a' })
  h.op(0, 8, 9, { kind: 'put', key: 'c', value: 'v5' })
  const history = h.history(2)
  history.watches[1] = structuredClone(history.watches[1])
  return history
}
const watchCodes = (history: History) => checkHistory(history).violations.map((v) => v.code)
const responsesOf = (history: History) => history.watches[1].segments[0].responses

describe('watch guarantees', () => {
  it('accepts complete, ordered streams, also when resumed at last+1 after a break', () => {
    const history = fiveWrites()
    const responses = responsesOf(history)
    history.watches[1].segments = [
      { startRevision: 1, opened: 0, responses: responses.slice(0, 2), endReason: 'member killed' },
      { startRevision: 4, opened: 5, responses: responses.slice(2) },
    ]
    expect(checkHistory(history).violations).toEqual([])
  })

  it('flags a duplicate event (unique)', () => {
    const history = fiveWrites()
    responsesOf(history).splice(2, 0, structuredClone(responsesOf(history)[1]))
    expect(watchCodes(history)).toEqual(['watch-duplicate'])
  })

  it('flags a skipped revision inside a stream (reliable)', () => {
    const history = fiveWrites()
    responsesOf(history).splice(1, 1)
    expect(watchCodes(history)).toEqual(['watch-gap'])
  })

  it('flags an event delivered after a later revision (ordered)', () => {
    const history = fiveWrites()
    const responses = responsesOf(history)
    ;[responses[3], responses[4]] = [responses[4], responses[3]]
    expect(watchCodes(history)).toContain('watch-unordered')
  })

  it('flags a txn revision split over two responses, or delivered incompletely (atomic)', () => {
    const split = fiveWrites()
    const responses = responsesOf(split)
    const txn = responses[2]
    responses.splice(2, 1, { ...txn, events: txn.events.slice(0, 1) }, { ...txn, events: txn.events.slice(1) })
    expect(watchCodes(split)).toContain('watch-not-atomic')

    const partial = fiveWrites()
    responsesOf(partial)[2].events.pop()
    // The merged log takes watcher 0's complete revision, so watcher 1 conflicts with it and is incomplete.
    expect(watchCodes(partial)).toEqual(expect.arrayContaining(['log-conflict', 'watch-not-atomic']))
  })

  it('flags a resumed watch that does not start at the requested revision (resumable)', () => {
    const history = fiveWrites()
    const responses = responsesOf(history)
    history.watches[1].segments = [
      { startRevision: 1, opened: 0, responses: responses.slice(0, 2) },
      { startRevision: 4, opened: 5, responses: responses.slice(3) },
    ]
    expect(watchCodes(history)).toEqual(['watch-not-resumable'])
  })

  it('flags a wrong prev_kv in an event', () => {
    const history = fiveWrites()
    for (const stream of history.watches) stream.segments[0].responses[3].events[0].prevKv = null
    expect(watchCodes(history)).toContain('wrong-effects')
  })

  it('flags a stream that stopped before the final write', () => {
    const history = fiveWrites()
    responsesOf(history).pop()
    expect(watchCodes(history)).toEqual(['watch-stalled'])
  })
})
