// The pull-model agent (rust-keylime's actix routes, spec §2): GET /version, and per served version
// a /vX.Y scope with /agent/info (2.2+) and /quotes/identity. Unmatched paths get the agent's own
// default handlers (keylime-agent/src/errors_handler.rs).
import {URLSearchParams} from 'node:url'

import {empty, envelope, notEmulated, success} from './reply.js'
import {makeQuote} from './tpm.js'
import {atLeast, latest} from './versions.js'

const MAX_NONCE_BYTES = 64
/** Rust char::is_alphanumeric: Unicode Alphabetic or Numeric (spec §2.4). */
const ALPHANUMERIC = /^[\p{Alphabetic}\p{N}]*$/u

/**
 * /version: rust ≥0.2.9 (the first agents serving 2.3+) list supported_versions too; older agents
 * (python ≤6.7.0, rust ≤0.2.8) answer only supported_version (spec §1.3). INFERRED: the agent
 * generation is chosen from the versions it serves.
 */
function versionInfo(agent) {
  const newest = latest(agent.versions)
  return atLeast(newest, '2.3') ? {supported_version: newest, supported_versions: agent.versions} : {supported_version: newest}
}

/** enc_alg is the legacy name before 2.5 and carries the key size from 2.5 on (spec §2.3). */
const encAlg = (version) => (atLeast(version, '2.5') ? 'ecc256' : 'ecc')

function agentInfo(res, agent, version) {
  success(res, {agent_uuid: agent.reportUuid, tpm_hash_alg: 'sha256', tpm_enc_alg: encAlg(version), tpm_sign_alg: 'ecdsa', ak_handle: agent.akHandle})
}

/** actix web::Query<{nonce: String}>: serde_urlencoded errors come back as 400 with their text. */
function nonceParam(rawQuery) {
  const values = new URLSearchParams(rawQuery).getAll('nonce')
  if (values.length === 0) return {error: 'Query deserialize error: missing field `nonce`'}
  if (values.length > 1) return {error: 'Query deserialize error: duplicate field `nonce`'}
  return {nonce: values[0]}
}

function identityQuote(emu, res, agent, version, rawQuery) {
  const {nonce, error} = nonceParam(rawQuery)
  if (error) return envelope(res, 400, error)
  // Same order and texts as quotes_handler.rs; an empty nonce passes both checks (spec §2.4).
  if (!ALPHANUMERIC.test(nonce)) return envelope(res, 400, `Parameters should be strictly alphanumeric: ${nonce}`)
  if (Buffer.byteLength(nonce) > MAX_NONCE_BYTES) return envelope(res, 400, `Nonce is too long (max size ${MAX_NONCE_BYTES}): ${nonce}`)
  // No boottime: the rust agent does not send it (spec §2.4).
  success(res, {quote: makeQuote(agent.tpm, nonce, Date.now() - emu.startedAt), hash_alg: 'sha256', enc_alg: encAlg(version), sign_alg: 'ecdsa', pubkey: agent.tpm.nkPem})
}

// ---- scope defaults (errors_handler.rs)

function apiDefault(res, method) {
  if (method === 'GET') return envelope(res, 400, 'Not Implemented: Use /agent, /keys, or /quotes interfaces')
  if (method === 'POST') return envelope(res, 400, 'Not Implemented: Use /keys or /notifications interfaces')
  envelope(res, 405, 'Method is not supported', undefined, {allow: 'GET, POST'})
}

function quotesDefault(res, method) {
  if (method === 'GET') return envelope(res, 400, 'URI not supported, only /identity and /integrity are supported for GET in /quotes/ interface')
  envelope(res, 405, 'Method is not supported in /quotes/ interface', undefined, {allow: 'GET'})
}

function agentDefault(res, method) {
  if (method === 'GET') return envelope(res, 400, 'URI not supported, only /info is supported for GET in /agent interface')
  envelope(res, 405, 'Method is not supported in /agent interface', undefined, {allow: 'GET'})
}

function appDefault(res, method, agent) {
  if (method === 'GET') return envelope(res, 400, `Not Implemented: Use /version or /v${latest(agent.versions)}/ interfaces`)
  if (method === 'POST') return envelope(res, 400, `Not Implemented: Use /v${latest(agent.versions)}/ interface`)
  envelope(res, 405, 'Method is not supported', undefined, {allow: 'GET, POST'})
}

/** A resource matched but has no route for the method: actix answers a bare 405 (only 404s are wrapped). */
function getOnly(res, method, handle) {
  if (method !== 'GET') return empty(res, 405)
  handle()
}

/** Whether `path` equals `scope` or continues below it (actix scope matching). */
const under = (path, scope) => path === scope || path.startsWith(`${scope}/`)

function routeScope(emu, ctx, agent, version, tail) {
  const {method, res} = ctx
  if (under(tail, '/quotes')) {
    if (tail === '/quotes/identity') return getOnly(res, method, () => identityQuote(emu, res, agent, version, ctx.rawQuery))
    if (tail === '/quotes/integrity') return notEmulated(res, 'GET /quotes/integrity')
    return quotesDefault(res, method)
  }
  // /agent is mounted from 2.2 on only; under 2.1 it falls to the scope default (api.rs).
  if (atLeast(version, '2.2') && under(tail, '/agent')) {
    if (tail === '/agent/info') return getOnly(res, method, () => agentInfo(res, agent, version))
    return agentDefault(res, method)
  }
  if (under(tail, '/keys') || under(tail, '/notifications')) return notEmulated(res, `${method} ${tail}`)
  apiDefault(res, method)
}

export function handleAgent(emu, agent, ctx) {
  const {method, path, res} = ctx
  const version = agent.versions.find((v) => under(path, `/v${v}`))
  if (version) return routeScope(emu, ctx, agent, version, path.slice(`/v${version}`.length))
  if (path === '/version') return getOnly(res, method, () => success(res, versionInfo(agent)))
  const asked = /^\/v(\d+)\.(\d+)/.exec(path)
  if (asked) return envelope(res, 400, `API version not supported: v${asked[1]}.${asked[2]}`)
  appDefault(res, method, agent)
}

/** An injected fault: the TPM failed (quotes_handler.rs), or a generic 500 elsewhere. */
export function agentFault(res, path) {
  envelope(res, 500, path.includes('/quotes/') ? 'Unable to retrieve quote' : 'Internal Server Error')
}
