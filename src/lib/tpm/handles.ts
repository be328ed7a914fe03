import {TpmError} from './errors.js'

export const DEFAULT_SIGNING_HANDLE = 0x81008006
export const DEFAULT_SRK_HANDLE = 0x81000001

/** Parses 0x81008006 (either case) or a decimal number; only persistent handles (0x81xxxxxx). */
export function parsePersistentHandle(text: string, flag: string): number {
  const t = text.trim()
  let n: number
  if (/^0x[0-9a-f]{1,8}$/i.test(t)) n = Number.parseInt(t.slice(2), 16)
  else if (/^\d{1,10}$/.test(t)) n = Number(t)
  else throw new TpmError('INVALID_HANDLE', `${flag}: "${text}" is not a TPM handle`, {suggestions: ['use a persistent handle such as 0x81008006']})
  if (n < 0x81000000 || n > 0x81ffffff) {
    throw new TpmError('INVALID_HANDLE', `${flag}: ${formatHandle(n)} is not a persistent handle (0x81000000-0x81FFFFFF)`, {
      suggestions: ['use a persistent handle such as 0x81008006'],
    })
  }
  return n
}

/** Owner-hierarchy persistent handles: the range tpm2_evictcontrol -C o accepts. */
export function isOwnerPersistent(handle: number): boolean {
  return handle >= 0x81000000 && handle <= 0x817fffff
}

export function formatHandle(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`
}
