// The registrar (spec §4). Two implementations, chosen from the highest version served:
//   ≤2.2 (Keylime ≤7.11) keylime/registrar_common.py: BaseHTTPServer handlers that read requests the
//        legacy way (lib/legacy.js); the HTTPS port serves only /agents, the HTTP port only /version.
//   ≥2.3 (Keylime ≥7.12) keylime/web (registrar_server.py): routes /version, /v2[.minor]/agents[/:id];
//        unmatched requests get empty-bodied 404/405, TLS-only routes over HTTP an empty 400.
import {restfulParams, validAgentId} from './legacy.js'
import {empty, envelope, jsonApiError, notEmulated, success} from './reply.js'
import {atLeast, latest} from './versions.js'

/** What GET /agents/{id} renders (spec §4.1); ≥7.12 adds agent_id. */
function registration(agent, withAgentId) {
  const rendered = {
    aik_tpm: agent.tpm.aikTpm,
    ek_tpm: agent.tpm.ekTpm,
    ekcert: null,
    mtls_cert: agent.certPem ?? 'disabled',
    ip: agent.host,
    port: agent.port,
    regcount: 1,
  }
  return withAgentId ? {agent_id: agent.uuid, ...rendered} : rendered
}

const registered = (emu) => emu.agents.filter((a) => a.registered)
const versionInfo = (emu) => ({current_version: latest(emu.registrar.versions), supported_versions: emu.registrar.versions})
export const isLegacyRegistrar = (versions) => !atLeast(latest(versions), '2.3')

// ---- ≤7.11

function legacyGet(emu, ctx) {
  const params = restfulParams(ctx.path, ctx.rawQuery, emu.registrar.versions)
  if (!params.api_version) return envelope(ctx.res, 400, 'API Version not supported')
  if (!('agents' in params)) return envelope(ctx.res, 400, 'URI not supported')
  const id = params.agents
  if (id === null) return success(ctx.res, {uuids: registered(emu).map((a) => a.uuid)})
  if (!validAgentId(id)) return envelope(ctx.res, 400, 'agent_id is not valid')
  const agent = emu.byUuid.get(id)
  if (!agent?.registered) return envelope(ctx.res, 404, `agent ${id} not found`)
  success(ctx.res, registration(agent, false))
}

const LEGACY_TLS_METHODS = {
  GET: legacyGet,
  HEAD: (emu, {res}) => envelope(res, 405, 'HEAD not supported'),
  PATCH: (emu, {res}) => envelope(res, 405, 'PATCH not supported'),
  POST: (emu, {res}) => envelope(res, 405, 'POST not supported via TLS interface'),
  PUT: (emu, {res}) => envelope(res, 405, 'PUT not supported via TLS interface'),
  DELETE: (emu, {res}) => notEmulated(res, 'DELETE /agents/{id}'),
}

function legacyTls(emu, ctx) {
  const handler = LEGACY_TLS_METHODS[ctx.method]
  // BaseHTTPRequestHandler answers a method without a do_X with a 501 (and an HTML page, not emulated).
  if (!handler) return empty(ctx.res, 501)
  handler(emu, ctx)
}

function legacyHttp(emu, ctx) {
  const {res, method} = ctx
  if (method === 'POST' || method === 'PUT') return notEmulated(res, `${method} (agent registration)`)
  if (method === 'HEAD' || method === 'PATCH') return envelope(res, 405, `${method} not supported`)
  if (method !== 'GET') return empty(res, 501)
  const params = restfulParams(ctx.path, ctx.rawQuery, emu.registrar.versions)
  if (!('version' in params)) return envelope(res, 400, 'URI not supported')
  success(res, versionInfo(emu))
}

// ---- ≥7.12

/** Route patterns as Server.version_scope(2) expands them: /v2 plus /v2.N for each served 2.N. */
function matchVersioned(emu, segments) {
  const token = segments[0] ?? ''
  const scoped = token === 'v2' || emu.registrar.versions.some((v) => v.startsWith('2.') && token === `v${v}`)
  if (!scoped || segments[1] !== 'agents') return undefined
  if (segments.length === 2) return {action: 'index'}
  if (segments.length === 3) return {action: 'show', agentId: segments[2]}
  if (segments.length === 4 && segments[3] === 'activate') return {action: 'activate'}
  return undefined
}

/** Route.split_path: one leading and one trailing empty segment are dropped. */
function splitPath(path) {
  const segments = path.split('/')
  if (segments[0] === '') segments.shift()
  if (segments.at(-1) === '') segments.pop()
  return segments
}

const METHODS = {index: ['GET', 'POST'], show: ['GET', 'POST', 'PUT', 'DELETE'], activate: ['POST', 'PUT']}

/**
 * 7.14+ authorizes per route (spec §4: GET/DELETE /agents need an admin client certificate); the
 * detail is SimpleAuthProvider's reason (INFERRED that it is what the 403 carries).
 */
function deniedAdmin(emu, req, res, action) {
  if (!emu.registrar.authz || req.socket.authorized) return false
  jsonApiError(res, 403, `Action ${action} requires admin authentication (mTLS certificate)`)
  return true
}

function webAgents(emu, ctx, route, secure) {
  const {req, res, method} = ctx
  if (!METHODS[route.action].includes(method)) return empty(res, 405)
  if (method !== 'GET') return notEmulated(res, `${method} ${ctx.path}`)
  if (!secure) return empty(res, 400) // https_required
  if (deniedAdmin(emu, req, res, route.action === 'index' ? 'list_registrations' : 'read_registration')) return
  if (route.action === 'index') return success(res, {uuids: registered(emu).map((a) => a.uuid)})
  const agent = emu.byUuid.get(route.agentId)
  if (!agent?.registered) return envelope(res, 404, `Agent with ID '${route.agentId}' not found`)
  success(res, registration(agent, true))
}

function web(emu, ctx, secure) {
  const {res, method, path} = ctx
  if (path === '/version' || path === '/version/') return method === 'GET' ? success(res, versionInfo(emu)) : empty(res, 405)
  const route = matchVersioned(emu, splitPath(path))
  if (!route) return empty(res, 404)
  webAgents(emu, ctx, route, secure)
}

/** The HTTPS port. */
export function handleRegistrar(emu, ctx) {
  if (isLegacyRegistrar(emu.registrar.versions)) return legacyTls(emu, ctx)
  web(emu, ctx, true)
}

/** The plain-HTTP port (registration and /version only, spec §4). */
export function handleRegistrarHttp(emu, ctx) {
  if (isLegacyRegistrar(emu.registrar.versions)) return legacyHttp(emu, ctx)
  web(emu, ctx, false)
}

/** An injected fault: BaseHTTPServer handlers answer the envelope; keylime/web an empty 500. */
export function registrarFault(emu, res) {
  if (isLegacyRegistrar(emu.registrar.versions)) return envelope(res, 500)
  empty(res, 500)
}
