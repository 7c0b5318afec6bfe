import { defineStore } from 'pinia'
import { ref } from 'vue'
import { TLS_CONVERSION_STEPS, type TlsConversionReport, type TlsConversionStep, type TlsProgressEvent } from '../../src-main/api/tls-api'
import { api } from '../api'
import { callRunner } from './wizards'

/** The state of one step of the conversion, as the TLS wizard lists it. */
export interface TlsStepState {
  step: TlsConversionStep
  state: TlsProgressEvent['state'] | 'pending'
  detail: string
}

/** State of the TLS wizard: the steps of the running conversion, its report, and the last error as user text. */
export const useTlsStore = defineStore('tls', () => {
  const steps = ref<TlsStepState[]>([])
  const report = ref<TlsConversionReport | null>(null)
  const { busy, error, run } = callRunner()
  let operationId = ''
  let subscribed = false

  function subscribe(): void {
    if (subscribed) return
    subscribed = true
    api.onTlsProgress((event) => {
      if (event.operationId !== operationId) return
      const row = steps.value.find((candidate) => candidate.step === event.step)
      if (row) Object.assign(row, { state: event.state, detail: event.detail })
    })
  }

  function reset(): void {
    steps.value = TLS_CONVERSION_STEPS.filter((step) => step !== 'rollback').map((step) => ({ step, state: 'pending', detail: '' }))
    report.value = null
    error.value = null
  }

  /** Converts the local cluster `name` to TLS; true when it worked (else `error` says why and what was rolled back). */
  async function convert(name: string): Promise<boolean> {
    subscribe()
    reset()
    steps.value.push({ step: 'rollback', state: 'pending', detail: '' })
    operationId = `tls-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
    const value = await run(() => api.convertLocalClusterToTls({ cluster: name, operationId }))
    steps.value = steps.value.filter((row) => row.step !== 'rollback' || row.state !== 'pending')
    report.value = value
    return value !== null
  }

  return { steps, report, busy, error, reset, convert }
})
