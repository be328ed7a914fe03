import {createHash} from 'node:crypto'

import {MetadataError} from './errors.js'

/** The key IDs SPIRE asks a KeyManager for: two X.509 CA slots and two JWT signer slots. */
export const SPIRE_KEY_IDS = ['x509-CA-A', 'x509-CA-B', 'JWT-Signer-A', 'JWT-Signer-B'] as const

/** The plugin treats a key not updated for this long as stale. */
export const STALE_AFTER_DAYS = 14

/**
 * Accepts "example.org" or "spiffe://example.org" and returns the trust domain name, checked
 * against the SPIFFE ID rules (lowercase letters, digits, ".", "-", "_").
 */
export function normalizeTrustDomain(input: string): string {
  let td = input.trim()
  if (td.startsWith('spiffe://')) td = td.slice('spiffe://'.length).replace(/\/$/, '')
  if (td === '') throw new MetadataError('INVALID_TRUST_DOMAIN', 'the trust domain is empty', {suggestions: ['give a name such as example.org']})
  if (td.includes('/')) {
    throw new MetadataError('INVALID_TRUST_DOMAIN', `"${input}" is a SPIFFE ID with a path, not a trust domain`, {
      suggestions: [`use only the trust domain name, e.g. ${td.split('/')[0]}`],
    })
  }
  if (/[A-Z]/.test(td)) {
    throw new MetadataError('INVALID_TRUST_DOMAIN', `trust domain "${input}" has upper-case letters, which SPIFFE does not allow`, {
      suggestions: [`use ${td.toLowerCase()}`],
    })
  }
  if (!/^[a-z0-9._-]+$/.test(td)) {
    throw new MetadataError('INVALID_TRUST_DOMAIN', `trust domain "${input}" has characters other than a-z, 0-9, ".", "-" and "_"`, {
      suggestions: ['use the trust domain name from the SPIRE server configuration, e.g. example.org'],
    })
  }
  if (td.length > 255) throw new MetadataError('INVALID_TRUST_DOMAIN', 'trust domain is longer than 255 characters')
  return td
}

/** Label spire-server-td: lowercase hex SHA-1 of the trust domain name. */
export function trustDomainHash(trustDomain: string): string {
  return createHash('sha1').update(trustDomain, 'utf8').digest('hex')
}

export function pluginKeyName(serverId: string, spireKeyId: string): string {
  return `spire-key-${serverId}-${spireKeyId}`
}

export interface PluginDerivation {
  trustDomain: string
  labels: {
    'spire-server-td': string
    'spire-server-id': string
    'spire-active': string
    'spire-last-update': string
  }
  keyNamePattern: string
  keys: Array<{spireKeyId: string; name: string}>
  /** The label filter the plugin lists its keys with (CipherTrust GET /api/v1/vault/keys2?labels=...). */
  labelFilter: string
  staleAfterDays: number
}

/** What the ciphertrust_kms plugin derives from its server ID and trust domain. */
export function derivePluginNames(serverId: string, trustDomain: string): PluginDerivation {
  const td = normalizeTrustDomain(trustDomain)
  const tdHash = trustDomainHash(td)
  return {
    trustDomain: td,
    labels: {
      'spire-server-td': tdHash,
      'spire-server-id': serverId,
      'spire-active': 'true',
      'spire-last-update': '<unix time of the last update, set by the plugin>',
    },
    keyNamePattern: 'spire-key-<server-id>-<spire-key-id>',
    keys: SPIRE_KEY_IDS.map((id) => ({spireKeyId: id, name: pluginKeyName(serverId, id)})),
    labelFilter: `spire-server-td=${tdHash},spire-server-id=${serverId},spire-active=true`,
    staleAfterDays: STALE_AFTER_DAYS,
  }
}
