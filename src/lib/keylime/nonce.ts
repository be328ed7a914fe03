import {randomBytes} from 'node:crypto'

import {KeylimeError} from './errors.js'

/** What the agent accepts and trustctl sends: ASCII letters and digits, 1 to 64 characters. */
export function checkNonce(nonce: string): string {
  if (nonce.length === 0 || nonce.length > 64) {
    throw new KeylimeError('INVALID_NONCE', `nonce must be 1 to 64 characters, got ${nonce.length}`, {suggestions: ['omit --nonce to have one generated as the SPIRE plugin does']})
  }
  if (!/^[A-Za-z0-9]+$/.test(nonce)) {
    throw new KeylimeError('INVALID_NONCE', 'nonce must be strictly alphanumeric (A-Z, a-z, 0-9)', {suggestions: ['omit --nonce to have one generated as the SPIRE plugin does']})
  }
  return nonce
}

/** Keylime's agent-ID rule (letters, digits, _ . -): anything else is refused before a request, and never becomes part of a SPIFFE ID. */
export function checkAgentId(id: string, where = 'agent UUID'): string {
  if (!/^[\w.-]+$/.test(id)) throw new KeylimeError('INVALID_AGENT_ID', `${where}: "${id.slice(0, 80)}" is not a Keylime agent ID (letters, digits, _ . - only)`)
  return id
}

/** The SPIRE plugin's nonce: 32 random bytes, standard base32 (A-Z2-7), first 32 characters. */
export function pluginNonce(): string {
  const bytes = randomBytes(32)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = 0
  let value = 0
  let out = ''
  for (const b of bytes) {
    value = (value << 8) | b
    bits += 8
    while (bits >= 5 && out.length < 32) {
      out += alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  return out.slice(0, 32)
}
