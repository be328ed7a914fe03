import {UsageError} from '../core/errors.js'
import {parseDuration} from '../core/values.js'
import {SPIRE_KEY_IDS, STALE_AFTER_DAYS, trustDomainHash, normalizeTrustDomain} from '../metadata/plugin-labels.js'
import {isServerId, printable} from '../metadata/server-id.js'
import type {CtmClient} from './client.js'
import {CtmError} from './errors.js'

/** The fields of a CM key object trustctl reads (vault objects are camelCase; curveid/publickey lower-case). */
export interface CmKey {
  id: string
  name: string
  version?: number
  algorithm?: string
  size?: number
  curveid?: string
  state?: string
  objectType?: string
  labels?: Record<string, string>
  deactivationDate?: string
  updatedAt?: string
  publickey?: string
}

export interface PluginKeyRow {
  id: string
  name: string
  spireKeyId: string | null
  serverId: string | null
  version: number | null
  active: boolean
  lastUpdate: string | null
  deactivationDate: string | null
  state: string | null
}

const seg = (s: string) => encodeURIComponent(s)

/** CM's label filter (AND of equalities) for the plugin's keys of one server and trust domain. */
export function pluginLabelFilter(opts: {serverId?: string; trustDomain?: string; all?: boolean}): string {
  const parts: string[] = []
  if (opts.trustDomain) parts.push(`spire-server-td=${trustDomainHash(normalizeTrustDomain(opts.trustDomain))}`)
  if (opts.serverId) {
    // The filter is comma-separated: an unchecked value could add terms of its own.
    if (!isServerId(opts.serverId)) throw new UsageError('INVALID_VALUE', `--server-id: "${printable(opts.serverId)}" is not a UUID`)
    parts.push(`spire-server-id=${opts.serverId}`)
  }
  if (!opts.all) parts.push('spire-active=true')
  return parts.join(',')
}

export function toRow(k: CmKey): PluginKeyRow {
  const labels = k.labels ?? {}
  const serverId = labels['spire-server-id'] ?? null
  const prefix = serverId ? `spire-key-${serverId}-` : undefined
  const spireKeyId = prefix && k.name.startsWith(prefix) ? k.name.slice(prefix.length) : (SPIRE_KEY_IDS.find((id) => k.name.endsWith(`-${id}`)) ?? null)
  const last = Number(labels['spire-last-update'])
  return {
    id: k.id,
    name: k.name,
    spireKeyId,
    serverId,
    version: k.version ?? null,
    active: labels['spire-active'] === 'true',
    lastUpdate: Number.isFinite(last) && last > 0 ? new Date(last * 1000).toISOString() : null,
    deactivationDate: k.deactivationDate ?? null,
    state: k.state ?? null,
  }
}

/** The plugin's keys (the private-key objects; CM's companion public-key objects are skipped). */
export async function listPluginKeys(c: CtmClient, opts: {serverId?: string; trustDomain?: string; all?: boolean}): Promise<PluginKeyRow[]> {
  const labels = pluginLabelFilter(opts)
  const keys = await c.list<CmKey>('/api/v1/vault/keys2', 'list keys', labels ? {labels} : {})
  return keys.filter((k) => k.objectType !== 'Public Key' && (k.labels?.['spire-server-id'] !== undefined || k.name.startsWith('spire-key-'))).map(toRow)
}

export async function getKey(c: CtmClient, ref: string): Promise<CmKey> {
  // CM guesses whether {id} is an id or a name; trustctl says it: ids are UUIDs or 64 hex digits.
  const isId = isServerId(ref) || /^[0-9a-f]{64}$/i.test(ref)
  return c.get<CmKey>(`/api/v1/vault/keys2/${seg(ref)}`, `key ${ref}`, isId ? {} : {type: 'name'})
}

export interface StaleKey extends PluginKeyRow {
  reason: string
}

/** Keys marked inactive, or not updated within the stale window (the plugin's 14 days by default). Destroyed keys are done. */
export function staleKeys(rows: PluginKeyRow[], staleWindow = `${STALE_AFTER_DAYS}d`, now = Date.now()): StaleKey[] {
  const windowMs = parseDuration(staleWindow, '--stale')
  const out: StaleKey[] = []
  for (const r of rows) {
    if (r.state?.startsWith('Destroyed')) continue
    if (!r.active) out.push({...r, reason: 'spire-active is not true'})
    else if (!r.lastUpdate) out.push({...r, reason: 'no spire-last-update label'})
    else if (now - Date.parse(r.lastUpdate) > windowMs) out.push({...r, reason: `not updated since ${r.lastUpdate}`})
  }
  return out
}

/** Destroys a key's material through POST /vault/keys2/{id}/destroy (the key object and its history remain). */
export async function destroyKey(c: CtmClient, id: string): Promise<void> {
  await c.post(`/api/v1/vault/keys2/${seg(id)}/destroy`, `destroy key ${id}`)
}

/** Server IDs that own active keys for a trust domain (metadata recover). */
export async function serverIdsForTrustDomain(c: CtmClient, trustDomain: string): Promise<Array<{serverId: string; keys: string[]}>> {
  const rows = await listPluginKeys(c, {trustDomain})
  const by = new Map<string, string[]>()
  for (const r of rows) if (r.serverId) by.set(r.serverId, [...(by.get(r.serverId) ?? []), r.name])
  if (by.size === 0) throw new CtmError('NOT_FOUND', `no active SPIRE keys for trust domain ${trustDomain} in CipherTrust Manager`, {suggestions: ['check --trust-domain; keys of a stopped server may already be inactive (ctm keys list --all)']})
  return [...by.entries()].map(([serverId, keys]) => ({serverId, keys}))
}
