import type {Settings} from '../core/config.js'
import type {Logger} from '../core/log.js'
import {parsePersistentHandle} from './handles.js'

/** TPM connection settings of a command: the resolved TCTI and the per-call timeout. */
export function tpmOptions(settings: Settings, logger?: Logger): {tcti: string; timeoutMs: number; logger?: Logger} {
  return {tcti: settings.require('tcti'), timeoutMs: settings.duration('tpm-timeout') ?? 30_000, logger}
}

/** A handle setting parsed and range-checked, the error naming where the value came from. */
export function handleSetting(settings: Settings, key: 'tpm-handle' | 'srk-handle'): number {
  const r = settings.get(key)
  const where = r.source === 'flag' ? (r.origin ?? `--${key}`) : r.source === 'default' ? key : `${r.origin}`
  return parsePersistentHandle(settings.require(key), where)
}
