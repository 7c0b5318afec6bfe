import type { AdminApi, AdminEvent, AdminMethod, Result, Unsubscribe } from './admin-api'
import { ADMIN_ARG_SCHEMAS } from './admin-schemas'

/**
 * Checks `args` against the method's schema and calls the service. Shared by the IPC handlers and web mode,
 * so both boundaries apply the same checks. Never throws: a bad shape becomes `invalid_argument`, an
 * unexpected exception from a service becomes `internal` (its message only, never a stack).
 */
export async function dispatchAdminCall(api: AdminApi, method: AdminMethod, args: unknown): Promise<Result<unknown>> {
  const parsed = ADMIN_ARG_SCHEMAS[method].safeParse(args)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''
    return { ok: false, error: { code: 'invalid_argument', message: `${method}: bad arguments${where}: ${issue?.message ?? 'invalid'}` } }
  }
  try {
    const call = api[method] as (...callArgs: unknown[]) => Promise<Result<unknown>>
    return await call.apply(api, parsed.data as unknown[])
  } catch (error) {
    return { ok: false, error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } }
  }
}

/** Subscribes to one contract event by name with an untyped listener (the payload is forwarded as is). */
export function subscribeAdminEvent(api: AdminApi, name: AdminEvent, listener: (payload: unknown) => void): Unsubscribe {
  const on = api[name] as (listener: (payload: unknown) => void) => Unsubscribe
  return on.call(api, listener)
}
