import { en } from './en'

/** Every message key of the catalogue; `t` accepts only these, so a typo fails the typecheck. */
export type MessageKey = keyof typeof en

/** Message parameters: `{name}` placeholders. */
export type MessageParams = Record<string, string | number>

const catalogue: Record<MessageKey, string> = en

/** The UI text for `key` with `{placeholders}` filled in. Unknown placeholders are left as they are. */
export function t(key: MessageKey, params: MessageParams = {}): string {
  return catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole))
}

/** True when `key` exists (for keys built from codes, e.g. `connectionTest.problem.<code>`). */
export function hasMessage(key: string): key is MessageKey {
  return key in catalogue
}
