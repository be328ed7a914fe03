// The verifier in pull mode (keylime/cloud_verifier_tornado.py, spec §3): tornado routes
//   /versions?                          VersionHandler
//   /v<ver>/agents/.*                   AgentsHandler (GET one agent, or the list)
//   /v<ver>/verify/identity             VerifyIdentityHandler (releases serving 2.2+)
//   anything else                       MainHandler: 405 "Not Implemented: Use /agents/ interface instead"
// Parameters are read the legacy way (lib/legacy.js).
import {restfulParams, validAgentId} from './legacy.js'
import {envelope, jsonApiError, notEmulated, success, tornadoError} from './reply.js'
import {akFromAikTpm, checkQuote, RECOGNISED_HASHES} from './tpm.js'
import {atLeast, latest} from './versions.js'

export const VERIFIER_ID = 'default'

/** Server-side verdict of API 2.5 (spec §3.3, pull mode). */
function attestationStatus(state) {
  if ([3, 4, 5, 6].includes(state)) return 'PASS'
  if ([7, 9, 10].includes(state)) return 'FAIL'
  return 'PENDING'
}

/** The flat object of GET /agents/{id} (spec §3.2), as the tenant added the agent. */
function agentStatus(emu, agent, version) {
  const status = {
    operational_state: agent.state,
    v: agent.v,
    ip: agent.host,
    port: agent.port,
    tpm_policy: JSON.stringify({mask: '0x0'}),
    meta_data: JSON.stringify({}),
    has_mb_refstate: 0,
    has_runtime_policy: 0,
    accept_tpm_hash_algs: ['sha512', 'sha384', 'sha256'],
    accept_tpm_encryption_algs: ['ecc', 'rsa'],
    accept_tpm_signing_algs: ['ecdsa', 'rsassa'],
    hash_alg: 'sha256',
    enc_alg: 'ecc',
    sign_alg: 'ecdsa',
    verifier_id: VERIFIER_ID,
    verifier_ip: emu.host,
    verifier_port: emu.verifier.port,
    severity_level: null,
    last_event_id: null,
    attestation_count: agent.attestation.count,
    last_received_quote: agent.attestation.lastReceived,
    last_successful_attestation: agent.attestation.lastSuccess,
  }
  if (!atLeast(version, '2.5')) return status
  return {...status, attestation_status: attestationStatus(agent.state), attestation_period: '2s', maximum_attestation_interval: null}
}

const inVerifier = (emu) => emu.agents.filter((a) => a.inVerifier)

/** GET /agents/[?verifier=][&bulk=]: one-element lists of ids, or an object of statuses (spec §3.4). */
function listAgents(emu, res, params) {
  const mine = params.verifier === undefined || params.verifier === VERIFIER_ID
  const agents = mine ? inVerifier(emu) : []
  if ('bulk' in params) return success(res, Object.fromEntries(agents.map((a) => [a.uuid, agentStatus(emu, a, params.api_version)])))
  success(res, {uuids: agents.map((a) => [a.uuid])})
}

function getAgents(emu, res, params) {
  const id = params.agents
  if (id === null || id === '') return listAgents(emu, res, params)
  if (!validAgentId(id)) return envelope(res, 400, 'agent_id not not valid')
  const agent = emu.byUuid.get(id)
  if (!agent?.inVerifier) return envelope(res, 404, 'agent id not found')
  success(res, agentStatus(emu, agent, params.api_version))
}

/** Hash-name check, then the quote checks, each failure a JSON context joined by "; " (spec §3.5). */
function identityVerdict(agent, params) {
  if (!RECOGNISED_HASHES.includes(params.hash_alg)) {
    return pyJson({message: `TPM Quote is using an unrecognized hash algorithm: ${params.hash_alg}`, data: params.hash_alg})
  }
  const error = checkQuote(akFromAikTpm(agent.tpm.aikTpm), params.quote, params.nonce, params.hash_alg)
  return error === undefined ? undefined : pyJson({message: 'Quote data validation', error})
}

/** Python json.dumps spacing, as in keylime's failure event contexts. */
const pyJson = (obj) => `{${Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`

function verifyIdentity(emu, res, params) {
  for (const name of ['agent_uuid', 'quote', 'nonce', 'hash_alg']) {
    if (params[name] === undefined) return envelope(res, 400, `missing query parameter '${name}'`)
  }
  const agent = emu.byUuid.get(params.agent_uuid)
  if (!agent?.inVerifier) return envelope(res, 404, 'agent id not found')
  const reason = identityVerdict(agent, params)
  success(res, reason === undefined ? {valid: 1} : {valid: 0, reason})
}

/**
 * 7.14+ (a verifier serving 2.5+) accepts TLS without a client certificate and authorizes per
 * route (spec §3.1): reading agents is admin-only, version and identity checks are public. The
 * denial texts are SimpleAuthProvider's reasons (INFERRED: that the detail carries the reason).
 */
function denied(emu, req, res, action) {
  if (!emu.verifier.authz || req.socket.authorized) return false
  jsonApiError(res, 403, action === 'read_agent' ? 'Action read_agent requires authentication' : `Action ${action} requires admin authentication (mTLS certificate)`)
  return true
}

function versionHandler(emu, res, method, path) {
  if (method !== 'GET') return envelope(res, 405, 'Not Implemented: Use GET interface instead')
  // get_restful_params("/versions") has no "version" key: the handler rejects its own second route.
  if (path === '/versions') return envelope(res, 400, 'URI not supported')
  success(res, {current_version: latest(emu.verifier.versions), supported_versions: emu.verifier.versions})
}

function agentsHandler(emu, ctx) {
  const {req, res, method} = ctx
  if (method === 'HEAD') return envelope(res, 405, 'HEAD not supported')
  if (method !== 'GET') return notEmulated(res, `${method} /agents/`)
  const params = restfulParams(ctx.path, ctx.rawQuery, emu.verifier.versions)
  if (!params.api_version) return envelope(res, 400, 'API Version not supported')
  const listing = params.agents === null || params.agents === ''
  if (denied(emu, req, res, listing ? 'list_agents' : 'read_agent')) return
  getAgents(emu, res, params)
}

function identityHandler(emu, ctx) {
  const {res, method} = ctx
  if (method !== 'GET') return envelope(res, 405, `${method} not supported`)
  const params = restfulParams(ctx.path, ctx.rawQuery, emu.verifier.versions)
  if (!params.api_version) return envelope(res, 400, 'API Version not supported')
  verifyIdentity(emu, res, params)
}

// The tornado route regexes (≤7.13): /agents/ needs its trailing slash.
const AGENTS_ROUTE = /^\/v\d+(?:\.\d+)?\/agents\//
const IDENTITY_ROUTE = /^\/v\d+(?:\.\d+)?\/verify\/identity$/
/** Every keylime handler defines these; tornado itself answers any other method with a 405. */
const HANDLER_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE']

export function handleVerifier(emu, ctx) {
  const {path, method, res} = ctx
  if (!HANDLER_METHODS.includes(method)) return tornadoError(res, 405)
  if (/^\/versions?$/.test(path)) return versionHandler(emu, res, method, path)
  if (AGENTS_ROUTE.test(path)) return agentsHandler(emu, ctx)
  // The handler exists from the release that introduced API 2.2 (7.11) and, like every legacy
  // handler, accepts any version prefix the server serves (INFERRED from the route table).
  if (atLeast(latest(emu.verifier.versions), '2.2') && IDENTITY_ROUTE.test(path)) return identityHandler(emu, ctx)
  envelope(res, 405, 'Not Implemented: Use /agents/ interface instead')
}

/** An injected fault: an uncaught exception in a tornado handler. */
export const verifierFault = (res) => tornadoError(res, 500)
