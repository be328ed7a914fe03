import {isTrustctlError} from '../core/errors.js'
import {normalizeTrustDomain} from '../metadata/plugin-labels.js'
import {unwrapUuids, type Endpoint, type KeylimeClient} from './client.js'
import {KeylimeError} from './errors.js'
import {checkAgentId, checkNonce, pluginNonce} from './nonce.js'
import {passesPluginRule, stateName} from './states.js'
import {compareVersions} from './version.js'

export interface AgentInfo {
  uuid: string
  hashAlg: string
  encAlg: string
  signAlg: string
  akHandle: number | string | null
  apiVersion: string
  endpoint: string
}

export async function agentInfo(c: KeylimeClient, ep?: Endpoint, opts: {last?: boolean} = {}): Promise<AgentInfo> {
  const v = await c.version('agent', ep)
  if (compareVersions(v, '2.2') < 0) {
    throw new KeylimeError('NOT_SUPPORTED', `the agent at ${c.base('agent', ep)} speaks API ${v}; /agent/info needs 2.2 or later`, {suggestions: ['give the agent UUID with --agent-uuid, or upgrade the agent (rust-keylime 0.2.6+)']})
  }
  const r = await c.get<{agent_uuid?: string; tpm_hash_alg?: string; tpm_enc_alg?: string; tpm_sign_alg?: string; ak_handle?: number | string}>('agent', '/agent/info', {ep, last: opts.last})
  if (typeof r.agent_uuid !== 'string' || r.agent_uuid === '') throw new KeylimeError('BAD_RESPONSE', `the agent at ${c.base('agent', ep)} reported no agent_uuid`)
  return {uuid: r.agent_uuid, hashAlg: r.tpm_hash_alg ?? 'sha256', encAlg: r.tpm_enc_alg ?? '', signAlg: r.tpm_sign_alg ?? '', akHandle: r.ak_handle ?? null, apiVersion: v, endpoint: c.base('agent', ep)}
}

export interface Quote {
  nonce: string
  quote: string
  hashAlg: string
  encAlg?: string
  signAlg?: string
  pubkey?: string
}

export async function identityQuote(c: KeylimeClient, nonce?: string, ep?: Endpoint): Promise<Quote> {
  const n = nonce === undefined ? pluginNonce() : checkNonce(nonce)
  const r = await c.get<{quote?: string; hash_alg?: string; enc_alg?: string; sign_alg?: string; pubkey?: string}>('agent', '/quotes/identity', {ep, query: {nonce: n}})
  if (typeof r.quote !== 'string' || !r.quote.startsWith('r')) throw new KeylimeError('BAD_RESPONSE', 'the agent returned no quote')
  return {nonce: n, quote: r.quote, hashAlg: r.hash_alg ?? 'sha256', encAlg: r.enc_alg, signAlg: r.sign_alg, pubkey: r.pubkey}
}

export interface VerifierStatus {
  uuid: string
  operationalState: number
  stateName: string
  passesPluginRule: boolean
  attestationCount: number | null
  lastReceivedQuote: string | null
  lastSuccessfulAttestation: string | null
  hashAlg: string | null
  ip: string | null
  port: number | null
}

const epoch = (v: unknown) => (typeof v === 'number' && v > 0 ? new Date(v * 1000).toISOString() : null)

export function toStatus(uuid: string, r: Record<string, unknown>): VerifierStatus {
  const state = Number(r.operational_state)
  return {
    uuid,
    operationalState: state,
    stateName: stateName(state),
    passesPluginRule: passesPluginRule(state),
    attestationCount: typeof r.attestation_count === 'number' ? r.attestation_count : null,
    lastReceivedQuote: epoch(r.last_received_quote),
    lastSuccessfulAttestation: epoch(r.last_successful_attestation),
    hashAlg: typeof r.hash_alg === 'string' ? r.hash_alg : null,
    ip: typeof r.ip === 'string' ? r.ip : null,
    port: r.port === undefined || r.port === null ? null : Number(r.port),
  }
}

export async function verifierStatus(c: KeylimeClient, uuid: string): Promise<VerifierStatus> {
  checkAgentId(uuid)
  return toStatus(uuid, await c.get<Record<string, unknown>>('verifier', `/agents/${encodeURIComponent(uuid)}`, {what: `the verifier, agent ${uuid}`}))
}

/** Every agent of the verifier with its state (one bulk request). */
export async function verifierList(c: KeylimeClient): Promise<VerifierStatus[]> {
  const r = await c.get<Record<string, Record<string, unknown>>>('verifier', '/agents/', {query: {bulk: 'true'}, what: 'the verifier agent list'})
  return Object.entries(r).map(([uuid, v]) => toStatus(uuid, v))
}

export async function registrarShow(c: KeylimeClient, uuid: string): Promise<Record<string, unknown>> {
  checkAgentId(uuid)
  return {uuid, ...(await c.get<Record<string, unknown>>('registrar', `/agents/${encodeURIComponent(uuid)}`, {what: `the registrar, agent ${uuid}`}))}
}

export async function registrarList(c: KeylimeClient): Promise<string[]> {
  return unwrapUuids(await c.get<{uuids?: unknown}>('registrar', '/agents/', {what: 'the registrar agent list'}))
}

// ---- the SPIRE plugin's flow

export interface AttestStep {
  step: number
  name: string
  ok: boolean
  detail: string
}

export interface AttestResult {
  passed: boolean
  uuid: string | null
  spiffeId: string | null
  steps: AttestStep[]
}

/**
 * The SPIRE Keylime node attestor's decision, step by step: agent info, verifier state (3 or 4
 * only), a fresh nonce, the agent's identity quote, the verifier's verify/identity (valid === 1).
 * A failed step throws, naming the step; the steps so far are in the error's details.
 */
export async function attest(c: KeylimeClient, opts: {trustDomain: string; agentUuid?: string}): Promise<AttestResult> {
  const td = normalizeTrustDomain(opts.trustDomain)
  const steps: AttestStep[] = []
  const run = async <T>(name: string, fn: () => Promise<T>, describe: (v: T) => string): Promise<T> => {
    const step = steps.length + 1
    try {
      const v = await fn()
      steps.push({step, name, ok: true, detail: describe(v)})
      return v
    } catch (err) {
      const reason = (err as Error).message
      steps.push({step, name, ok: false, detail: reason})
      if (err instanceof KeylimeError) throw new KeylimeError(err.code as KeylimeError['code'], `attestation failed at step ${step} (${name}): ${reason}`, {suggestions: err.suggestions, details: {steps}})
      // Other errors (a missing --ca-file, ...) keep their class and exit code; the message names the step.
      if (isTrustctlError(err)) err.message = `attestation failed at step ${step} (${name}): ${reason}`
      throw err
    }
  }
  let uuid: string
  let hashAlg: string | undefined
  if (opts.agentUuid) {
    uuid = checkAgentId(opts.agentUuid, '--agent-uuid')
    steps.push({step: 1, name: 'agent info', ok: true, detail: `skipped: --agent-uuid ${uuid} given`})
  } else {
    const info = await run('agent info', () => agentInfo(c), (i) => `agent ${i.uuid}, hash ${i.hashAlg}, API ${i.apiVersion}`)
    uuid = info.uuid
    hashAlg = info.hashAlg
  }
  await run(
    'verifier state',
    async () => {
      const s = await verifierStatus(c, uuid)
      if (!s.passesPluginRule) {
        throw new KeylimeError('NOT_PASSING', `Keylime agent is not in a verified state: ${s.operationalState} (${s.stateName}); only 3 (Get Quote) and 4 (Get Quote (retry)) pass`)
      }
      return s
    },
    (s) => `state ${s.operationalState} (${s.stateName})`,
  )
  const nonce = await run('nonce', async () => pluginNonce(), (n) => `${n.length} characters`)
  const quote = await run('identity quote', () => identityQuote(c, nonce), (q) => `quote of ${q.quote.length} characters`)
  await run(
    'verify identity',
    async () => {
      const r = await c.get<{valid?: number | boolean; reason?: string}>('verifier', '/verify/identity', {query: {agent_uuid: uuid, hash_alg: hashAlg ?? quote.hashAlg, nonce, quote: quote.quote}, what: 'the verifier, verify/identity'})
      if (r.valid !== 1 && r.valid !== true) throw new KeylimeError('INVALID_QUOTE', `Keylime agent did not pass the identity check${r.reason ? `: ${r.reason}` : ''}`)
      return r
    },
    () => 'valid',
  )
  return {passed: true, uuid, spiffeId: `spiffe://${td}/spire/agent/keylime/${uuid}`, steps}
}

// ---- fleet

export interface FleetAgent {
  host: string
  port: number
  /** Answered over the network (false: refused, timed out, reset). */
  reachable: boolean
  uuid: string | null
  error: string | null
  verifierState: number | null
  verifierStateName: string | null
  passes: boolean
  registered: boolean | null
}

export interface FleetSummary {
  agents: number
  reachable: number
  unreachable: number
  /** Reachable, but reported no UUID (API older than 2.2, an error answer, a malformed body). */
  failed: number
  passing: number
  notPassing: number
  notInVerifier: number
  notRegistered: number
  duplicateUuids: Array<{uuid: string; endpoints: string[]}>
  passingWithoutReachableAgent: string[]
  /** Why registrar presence is unknown (the registrar list failed), else null. */
  registrarError: string | null
}

/**
 * Each agent's reported UUID (one request per agent, bounded concurrency), joined with one verifier
 * bulk list and one registrar list. Flags two endpoints reporting the same UUID (the spoofing case
 * of the plugin's security notes) and UUIDs passing in the verifier with no reachable agent.
 */
export async function fleetStatus(c: KeylimeClient, endpoints: Endpoint[], opts: {concurrency: number; onAgent?: (reachable: boolean) => void; verifierStates?: VerifierStatus[]}): Promise<{summary: FleetSummary; agents: FleetAgent[]}> {
  const reported: Array<{uuid: string} | {error: string; reachable: boolean}> = new Array(endpoints.length)
  let next = 0
  let stopped = false
  const worker = async () => {
    for (let i = next++; i < endpoints.length && !stopped; i = next++) {
      try {
        reported[i] = {uuid: (await agentInfo(c, endpoints[i] as Endpoint, {last: true})).uuid}
      } catch (err) {
        reported[i] = {error: (err as Error).message, reachable: !(isTrustctlError(err) && err.code === 'UNREACHABLE')}
      }
      const r = reported[i] as {uuid: string} | {reachable: boolean}
      opts.onAgent?.('uuid' in r || r.reachable)
    }
  }
  // The scan starts first; the verifier and registrar lists are fetched while it runs and joined
  // after. The verifier list is required: when it fails, the scan stops taking agents.
  const scan = Promise.all(Array.from({length: Math.max(1, Math.min(opts.concurrency, endpoints.length))}, worker))
  let registrarError: string | null = null
  const lists = Promise.all([
    opts.verifierStates ?? verifierList(c), // already fetched when the agents came from the verifier
    registrarList(c).catch((err: Error) => {
      registrarError = err.message // registrar presence is then unknown (null), and said so
      return undefined
    }),
  ])
  lists.catch(() => (stopped = true))
  const [[states, registered]] = await Promise.all([lists, scan])
  const byUuid = new Map(states.map((s) => [s.uuid, s]))
  const reg = registered ? new Set(registered) : undefined
  const results: FleetAgent[] = endpoints.map((ep, i) => {
    const r = reported[i] as {uuid: string} | {error: string; reachable: boolean}
    if ('error' in r) return {host: ep.host, port: ep.port, reachable: r.reachable, uuid: null, error: r.error, verifierState: null, verifierStateName: null, passes: false, registered: null}
    const s = byUuid.get(r.uuid)
    return {host: ep.host, port: ep.port, reachable: true, uuid: r.uuid, error: null, verifierState: s?.operationalState ?? null, verifierStateName: s?.stateName ?? null, passes: Boolean(s?.passesPluginRule), registered: reg ? reg.has(r.uuid) : null}
  })

  const seen = new Map<string, string[]>()
  for (const r of results) if (r.uuid) seen.set(r.uuid, [...(seen.get(r.uuid) ?? []), `${r.host}:${r.port}`])
  const reachable = results.filter((r) => r.reachable)
  const reporting = reachable.filter((r) => r.uuid !== null)
  const summary: FleetSummary = {
    agents: results.length,
    reachable: reachable.length,
    unreachable: results.length - reachable.length,
    failed: reachable.length - reporting.length,
    passing: reporting.filter((r) => r.passes).length,
    notPassing: reporting.filter((r) => !r.passes && r.verifierState !== null).length,
    notInVerifier: reporting.filter((r) => r.verifierState === null).length,
    notRegistered: reporting.filter((r) => r.registered === false).length,
    duplicateUuids: [...seen.entries()].filter(([, eps]) => eps.length > 1).map(([uuid, eps]) => ({uuid, endpoints: eps})),
    passingWithoutReachableAgent: states.filter((s) => s.passesPluginRule && !seen.has(s.uuid)).map((s) => s.uuid),
    registrarError,
  }
  return {summary, agents: results}
}

/** host:port lines (# comments allowed) or JSON ([{host, port}] or ["host:port"]). */
export function parseAgentsFile(text: string, where: string): Endpoint[] {
  const t = text.trim()
  const parseOne = (s: string, line: string): Endpoint => {
    const m = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(s.trim())
    if (!m || Number(m[2]) > 65535) throw new KeylimeError('REJECTED', `${where}: "${s}" is not host:port (${line})`)
    return {host: m[1] as string, port: Number(m[2])}
  }
  if (t.startsWith('[') || t.startsWith('{')) {
    let doc: unknown
    try {
      doc = JSON.parse(t)
    } catch {
      throw new KeylimeError('REJECTED', `${where}: not valid JSON`)
    }
    const list = Array.isArray(doc) ? doc : (doc as {agents?: unknown}).agents
    if (!Array.isArray(list)) throw new KeylimeError('REJECTED', `${where}: expected a JSON list of agents`)
    return list.map((a, i) => {
      if (typeof a === 'string') return parseOne(a, `item ${i + 1}`)
      if (a && typeof a === 'object') return parseOne(`${(a as Endpoint).host}:${(a as Endpoint).port}`, `item ${i + 1}`)
      throw new KeylimeError('REJECTED', `${where}: item ${i + 1} is neither "host:port" nor {"host", "port"}`)
    })
  }
  return t
    .split('\n')
    .map((l, i) => [l.replace(/#.*/, '').trim(), `line ${i + 1}`] as const)
    .filter(([l]) => l !== '')
    .map(([l, where2]) => parseOne(l, where2))
}
