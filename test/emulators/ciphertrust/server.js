#!/usr/bin/env node
// A strict in-memory emulator of the Thales CipherTrust Manager REST API, following
// /work/shared/specs/ciphertrust-api.md. See README.md for what it covers and its fault knobs.
//
//   node test/emulators/ciphertrust/server.js --port 8443 [--https] [--user admin --password admin]
import {randomBytes} from 'node:crypto'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {createServer as createHttpServer} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {URLSearchParams} from 'node:url'
import {parseArgs} from 'node:util'

import {runIfMain, stopOnSignals} from '../run-main.js'
import {authenticate, authRoutes, expireAllTokens, tokenFormBody} from './lib/auth.js'
import {cryptoRoutes} from './lib/crypto.js'
import {ApiError, fail, PlainUnauthorized} from './lib/errors.js'
import {createKey, keyRoutes, keyView} from './lib/keys.js'
import {policyRoutes} from './lib/policies.js'
import {secretRoutes} from './lib/secrets.js'
import {makeTlsMaterial} from './lib/tls.js'
import {createBuiltinGroups, createUser, usermgmtRoutes} from './lib/usermgmt.js'

const MAX_BODY_BYTES = 1024 * 1024

// ---- routing

/** A route path like /api/v1/vault/keys2/:id, split into literal and :param segments. */
function compile(route) {
  return {...route, segments: route.path.split('/').slice(1)}
}

const ROUTES = [...authRoutes, ...usermgmtRoutes, ...policyRoutes, ...keyRoutes, ...cryptoRoutes, ...secretRoutes].map(compile)

/** Path segments are URL-decoded, so `local%7C<uuid>` and `local|<uuid>` name the same user. */
function matchSegments(pattern, segments) {
  if (pattern.length !== segments.length) return undefined
  const params = {}
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(':')) params[pattern[i].slice(1)] = decodeSegment(segments[i])
    else if (pattern[i] !== segments[i]) return undefined
  }
  return params
}

function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw fail.badRequest(`invalid URL escape in path segment "${segment}"`)
  }
}

/** An unknown path or method is answered in plain text, like Go's router (UNKNOWN for CM). */
class RouteError extends Error {
  constructor(status, allow) {
    super(status === 404 ? '404 page not found' : 'Method Not Allowed')
    this.status = status
    this.allow = allow
  }
}

function findRoute(method, path) {
  // Clients send both /api/v1/vault/keys2 and /api/v1/vault/keys2/ (spec §1.1).
  const segments = path.replace(/\/+$/, '').split('/').slice(1)
  const allowed = []
  for (const route of ROUTES) {
    const params = matchSegments(route.segments, segments)
    if (!params) continue
    if (route.method === method) return {route, params}
    allowed.push(route.method)
  }
  throw new RouteError(allowed.length > 0 ? 405 : 404, allowed.join(', '))
}

// ---- request bodies

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(fail.badRequest('request body too large')) : resolve(Buffer.concat(chunks))))
    req.on('error', reject)
  })
}

const contentType = (req) => (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()

function parseJson(req, raw) {
  if (contentType(req) !== 'application/json') throw fail.badRequest('Content-Type must be application/json')
  try {
    return JSON.parse(raw.toString('utf8'))
  } catch (err) {
    throw fail.badRequest(`json: ${err.message}`)
  }
}

/**
 * Body kinds: json (required), optionalJson (empty or JSON), token (JSON or form-encoded: SPIRE),
 * raw (application/octet-stream: crypto), none (ignored).
 */
const BODY_PARSERS = {
  json: parseJson,
  optionalJson: (req, raw) => (raw.length === 0 ? undefined : parseJson(req, raw)),
  token: (req, raw) => (contentType(req) === 'application/x-www-form-urlencoded' ? tokenFormBody(raw.toString('utf8')) : parseJson(req, raw)),
  raw: (req, raw) => {
    if (contentType(req) !== 'application/octet-stream') throw fail.badRequest('Content-Type must be application/octet-stream')
    return raw
  },
  none: () => undefined,
}

// ---- responses

function send(res, status, body, type = 'application/json') {
  if (body === undefined) return res.writeHead(status).end()
  const text = type === 'application/json' ? JSON.stringify(body) : body
  res.writeHead(status, {'content-type': type === 'application/json' ? type : `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(text)})
  res.end(text)
}

function sendError(res, err) {
  if (err instanceof ApiError) return send(res, err.status, err.toJSON())
  if (err instanceof PlainUnauthorized) return send(res, 401, 'Unauthorized\n', 'text/plain')
  if (err instanceof RouteError) {
    if (err.allow) res.setHeader('allow', err.allow)
    return send(res, err.status, `${err.message}\n`, 'text/plain')
  }
  // A bug in the emulator: make it loud rather than look like a CM answer.
  send(res, 500, `emulator error: ${err.stack ?? err}\n`, 'text/plain')
}

// ---- faults

/** Consumes one injected 5xx if any is pending for this method. */
function takeFail5xx(faults, method) {
  if (faults.fail5xx <= 0 || !faults.fail5xxMethods.includes(method)) return false
  faults.fail5xx--
  return true
}

function takeForce409(faults) {
  if (faults.force409 <= 0) return false
  faults.force409--
  return true
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// ---- the request pipeline

async function handle(emu, req, res) {
  const at = req.url.indexOf('?')
  const path = at < 0 ? req.url : req.url.slice(0, at)
  const query = new URLSearchParams(at < 0 ? '' : req.url.slice(at + 1))
  try {
    const raw = await readBody(req)
    if (emu.faults.latencyMs > 0) await sleep(emu.faults.latencyMs)
    if (takeFail5xx(emu.faults, req.method)) throw fail.unavailable('injected fault: the service is temporarily unavailable')
    const {route, params} = findRoute(req.method, path)
    const principal = route.public ? undefined : authenticate(emu, req)
    const body = BODY_PARSERS[route.body ?? 'none'](req, raw)
    if (route.create && takeForce409(emu.faults)) throw fail[route.create]('injected fault: the resource already exists')
    const out = await route.handler({emu, req, params, query, principal, body})
    send(res, out.status ?? 200, out.body)
  } catch (err) {
    sendError(res, err)
  } finally {
    // Logged as the answer is written, so a test that has its response also sees the entry.
    emu.requests.push({method: req.method, path, query: Object.fromEntries(query), status: res.statusCode})
  }
}

// ---- the emulator

function createState() {
  return {
    users: new Map(), // user_id -> user (with its password)
    groups: new Map(), // name -> group (with a Set of member user_ids)
    refreshTokens: new Map(), // id -> refresh token record (with the token)
    accessTokens: new Map(), // jti -> {expiresAt}: lets expireAllTokens() and faults end JWTs early
    policies: new Map(), // id -> policy
    attachments: new Map(), // id -> policy attachment
    keys: new Map(), // id -> key version object (with its material), in creation order
    keyNames: new Map(), // name -> its version objects, oldest first
    secrets: new Map(), // id -> secret (with its material)
  }
}

/** Seeded users join the admin group unless they name their groups. */
function seedUsers(emu, users) {
  for (const {groups = ['admin'], ...body} of users) {
    const user = createUser(emu, body, {seeded: true})
    for (const name of groups) {
      const group = emu.state.groups.get(name)
      if (!group) throw new Error(`startEmulator: unknown group ${name} for user ${body.username}`)
      group.members.add(user.user_id)
    }
  }
}

/** Creates n keys straight into the state, through the same validation as POST /vault/keys2. */
function seedKeys(emu, n, make = (i) => ({name: `seed-key-${i}`})) {
  const ctx = {emu, query: new URLSearchParams(), principal: {isAdmin: true}}
  const created = []
  for (let i = 0; i < n; i++) created.push(keyView(createKey({...ctx, body: make(i)}).rec))
  return created
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server.address().port)
    })
  })
}

export async function startEmulator(opts = {}) {
  const host = opts.host ?? '127.0.0.1'
  const emu = {
    state: createState(),
    faults: {latencyMs: 0, fail5xx: 0, fail5xxMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], expireTokensAfterSec: null, force409: 0},
    options: {tokenLifetimeSec: opts.tokenLifetimeSec ?? 300, pageDefault: opts.pageDefault ?? 10},
    jwtKey: randomBytes(32),
    requests: [],
  }
  createBuiltinGroups(emu)
  seedUsers(emu, opts.users ?? [{username: 'admin', password: 'admin'}])
  const tls = opts.https ? makeTlsMaterial() : undefined
  const handler = (req, res) => void handle(emu, req, res)
  const server = tls ? createHttpsServer({cert: tls.certPem, key: tls.keyPem}, handler) : createHttpServer(handler)
  const port = await listen(server, opts.port ?? 0, host)
  const urlHost = host.includes(':') ? `[${host}]` : host
  return {
    url: `${tls ? 'https' : 'http'}://${urlHost}:${port}`,
    caPem: tls?.caPem,
    state: emu.state,
    faults: emu.faults,
    requests: emu.requests,
    expireAllTokens: () => expireAllTokens(emu),
    seedKeys: (n, make) => seedKeys(emu, n, make),
    stop: () =>
      new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}

// ---- command line

async function main() {
  const {values} = parseArgs({
    options: {
      port: {type: 'string', default: '8443'},
      host: {type: 'string', default: '127.0.0.1'},
      https: {type: 'boolean', default: false},
      user: {type: 'string', default: 'admin'},
      password: {type: 'string', default: 'admin'},
      'token-lifetime': {type: 'string', default: '300'},
    },
  })
  const emulator = await startEmulator({
    port: Number(values.port),
    host: values.host,
    https: values.https,
    users: [{username: values.user, password: values.password}],
    tokenLifetimeSec: Number(values['token-lifetime']),
  })
  console.log(`CipherTrust Manager emulator listening on ${emulator.url} (user ${values.user})`)
  if (emulator.caPem) {
    const caFile = join(mkdtempSync(join(tmpdir(), 'ctm-emulator-')), 'ca.pem')
    writeFileSync(caFile, emulator.caPem)
    console.log(`CA certificate: ${caFile}`)
  }
  stopOnSignals(() => emulator.stop())
}

runIfMain(import.meta.url, main)
