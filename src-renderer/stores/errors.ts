import type { AdminError } from '../../src-main/api/admin-api'
import { t } from '../i18n'

/** User text for a failed contract call. */
export function errorText(error: AdminError): string {
  return t(`error.${error.code}`, { message: error.message })
}
