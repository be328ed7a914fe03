import type {Settings} from '../core/config.js'
import {UsageError} from '../core/errors.js'
import type {Logger} from '../core/log.js'
import {parsePersistentHandle} from './handles.js'

/** TPM connection settings of a command: the resolved TCTI and the per-call timeout. */
export function tpmOptions(settings: Settings, logger?: Logger): {tcti: string; timeoutMs: number; transport: 'auto' | 'tools'; logger?: Logger} {
  const transport = settings.string('tpm-transport') ?? 'auto'
  if (transport !== 'auto' && transport !== 'tools') {
    throw new UsageError('INVALID_VALUE', `tpm-transport: "${transport}" is not auto or tools (from ${settings.get('tpm-transport').origin ?? 'default'})`)
  }
  return {tcti: settings.require('tcti'), timeoutMs: settings.duration('tpm-timeout') ?? 30_000, transport, logger}
}

/** A handle setting parsed and range-checked, the error naming where the value came from. */
export function handleSetting(settings: Settings, key: 'tpm-handle' | 'srk-handle'): number {
  const r = settings.get(key)
  const where = r.source === 'flag' ? (r.origin ?? `--${key}`) : r.source === 'default' ? key : `${r.origin}`
  return parsePersistentHandle(settings.require(key), where)
}
