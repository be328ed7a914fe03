// /api/v1/auth: access tokens (JWTs), refresh tokens and the caller's identity (spec §2).
import {createHmac, randomBytes, randomUUID, timingSafeEqual} from 'node:crypto'
import {URLSearchParams} from 'node:url'

import {fail, PlainUnauthorized} from './errors.js'
import {findUserByName, groupsOf, userView} from './usermgmt.js'
import {boolParam, checkBody, checkEnum, checkRequired, listEnvelope} from './validate.js'

const TOKEN_FIELDS = {
  grant_type: 'string',
  username: 'string',
  password: 'string',
  domain: 'string',
  auth_domain: 'string',
  connection: 'string',
  labels: 'strings',
  refresh_token_lifetime: 'integer',
  refresh_token_revoke_unused_in: 'integer',
  refresh_token: 'string',
  renew_refresh_token: 'boolean',
  client_id: 'string',
  cookies: 'boolean',
}

const GRANT_TYPES = ['password', 'refresh_token', 'user_certificate', 'client_credential']

// ---- JWTs

const b64json = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** HS256 with a per-emulator secret: clients only decode the payload (exp, iat), never verify it. */
function signJwt(emu, claims) {
  const signingInput = `${b64json({alg: 'HS256', typ: 'JWT'})}.${b64json(claims)}`
  return `${signingInput}.${createHmac('sha256', emu.jwtKey).update(signingInput).digest('base64url')}`
}

/** Verifies a JWT; the messages are those of the Go JWT library CM uses ("Token is expired" is CONFIRMED by CAP). */
function verifyJwt(emu, jwt) {
  const parts = jwt.split('.')
  if (parts.length !== 3) throw fail.unauthorized('token contains an invalid number of segments')
  const expected = createHmac('sha256', emu.jwtKey).update(`${parts[0]}.${parts[1]}`).digest()
  const given = Buffer.from(parts[2], 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw fail.unauthorized('signature is invalid')
  // The signature matched, so the payload is one this emulator wrote.
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
  const issued = emu.state.accessTokens.get(claims.jti)
  if (!issued || Date.now() >= Math.min(claims.exp * 1000, issued.expiresAt)) throw fail.unauthorized('Token is expired')
  return claims
}

/**
 * Issues a JWT whose exp = iat + duration (spec §11). faults.expireTokensAfterSec makes the server
 * forget it earlier while `duration` and `exp` still promise the normal lifetime, which is how a
 * client meets a surprise 401.
 */
function issueAccessToken(emu, user, refreshToken) {
  const now = Date.now()
  const duration = emu.options.tokenLifetimeSec
  const iat = Math.floor(now / 1000)
  const claims = {
    iss: 'kylo',
    sub: user.user_id,
    cust: {domain: 'root', groups: groupsOf(emu, user.user_id), sid: refreshToken.id},
    jti: randomUUID(),
    iat,
    exp: iat + duration,
  }
  const early = emu.faults.expireTokensAfterSec
  const expiresAt = typeof early === 'number' ? now + early * 1000 : claims.exp * 1000
  emu.state.accessTokens.set(claims.jti, {expiresAt})
  return {jwt: signJwt(emu, claims), duration, token_type: 'Bearer'}
}

/** Makes every JWT issued so far expire now (they answer 401 "Token is expired"). */
export function expireAllTokens(emu) {
  for (const token of emu.state.accessTokens.values()) token.expiresAt = 0
}

/**
 * The caller of an authenticated endpoint. No usable "Authorization: Bearer" header is a plain-text
 * 401 (spec §1.5); a bad or expired token is a JSON 401.
 */
export function authenticate(emu, req) {
  const m = /^Bearer +(\S+)$/.exec(req.headers.authorization ?? '')
  if (!m) throw new PlainUnauthorized()
  const claims = verifyJwt(emu, m[1])
  const user = emu.state.users.get(claims.sub)
  if (!user) throw fail.unauthorized('user no longer exists')
  const groups = claims.cust.groups
  return {userId: user.user_id, username: user.username, groups, isAdmin: groups.includes('admin')}
}

// ---- refresh tokens

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** Opaque ~60-character alphanumeric strings, like the KESDOC sample (spec §2.3). */
const opaqueToken = () => [...randomBytes(60)].map((b) => ALNUM[b % ALNUM.length]).join('')

function createRefreshToken(emu, user, {labels = [], lifetimeMin, unusedMin}) {
  const now = new Date()
  const rt = {
    id: randomUUID(),
    token: opaqueToken(),
    user_id: user.user_id,
    client_id: randomUUID(),
    labels,
    domain: 'root',
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
    refreshed_at: null,
    last_used_at: now.toISOString(),
    // refresh_token_lifetime 0 or absent: never expires (spec §2.1).
    expires_at: lifetimeMin ? new Date(now.getTime() + lifetimeMin * 60_000).toISOString() : null,
    revoke_unused_in: unusedMin ?? null,
    revoked: false,
  }
  emu.state.refreshTokens.set(rt.id, rt)
  return rt
}

function refreshTokenExpired(rt, now = Date.now()) {
  if (rt.expires_at && now >= Date.parse(rt.expires_at)) return true
  return rt.revoke_unused_in !== null && now - Date.parse(rt.last_used_at) >= rt.revoke_unused_in * 60_000
}

const refreshTokenView = ({token: _secret, ...view}) => ({...view, expired: refreshTokenExpired(view)})

function tokenResponse(emu, user, rt, {withRefreshToken}) {
  const body = {...issueAccessToken(emu, user, rt), client_id: rt.client_id, refresh_token_id: rt.id}
  if (withRefreshToken) body.refresh_token = rt.token
  // The SDK reads an optional refresh_token_expires_in (seconds): INFERRED, only for finite lifetimes.
  if (withRefreshToken && rt.expires_at) body.refresh_token_expires_in = Math.round((Date.parse(rt.expires_at) - Date.now()) / 1000)
  return body
}

// ---- grants

/** The emulator has one domain, root, and only local accounts (spec §2.1 defaults). */
function checkDomainFields(body) {
  for (const field of ['domain', 'auth_domain']) {
    if (body[field] && body[field] !== 'root') throw fail.unauthorized(`domain "${body[field]}" not found`)
  }
  if (body.connection && body.connection !== 'local_account') throw fail.unauthorized(`connection "${body.connection}" not found`)
}

function passwordGrant(emu, body) {
  checkRequired(body, ['username', 'password'])
  for (const field of ['refresh_token_lifetime', 'refresh_token_revoke_unused_in']) {
    if (body[field] < 0) throw fail.invalid(`${field} must not be negative`)
  }
  checkDomainFields(body)
  // No OAuth clients are registered in the emulator, so any client_id is unknown.
  if (body.client_id) throw fail.unauthorized('Invalid Client')
  const user = findUserByName(emu, body.username)
  if (!user || user.password !== body.password) {
    if (user) user.failed_logins_count++
    // Message as in Kroxylicious' recorded CM response (INFERRED).
    throw fail.unauthorized('Wrong username or password.')
  }
  if (user.expires_at && Date.now() >= Date.parse(user.expires_at)) throw fail.unauthorized('account has expired')
  if (!user.allowed_auth_methods.includes('password')) throw fail.unauthorized('password authentication is not allowed for this user')
  user.logins_count++
  user.last_login = new Date().toISOString()
  const rt = createRefreshToken(emu, user, {labels: body.labels ?? [], lifetimeMin: body.refresh_token_lifetime, unusedMin: body.refresh_token_revoke_unused_in})
  return tokenResponse(emu, user, rt, {withRefreshToken: true})
}

function findRefreshToken(emu, token) {
  for (const rt of emu.state.refreshTokens.values()) if (rt.token === token) return rt
  return undefined
}

/**
 * A new refresh token only with renew_refresh_token (the old one is then revoked); a token presented
 * for another domain is revoked (spec §2.1, PS help).
 */
function refreshGrant(emu, body) {
  checkRequired(body, ['refresh_token'])
  const rt = findRefreshToken(emu, body.refresh_token)
  const user = rt && emu.state.users.get(rt.user_id)
  if (!rt || !user || rt.revoked || refreshTokenExpired(rt)) throw fail.unauthorized('Invalid token')
  if (body.domain && body.domain !== rt.domain) {
    rt.revoked = true
    throw fail.unauthorized('refresh token was issued for another domain and has been revoked')
  }
  const now = new Date().toISOString()
  rt.last_used_at = now
  rt.refreshed_at = now
  if (!body.renew_refresh_token) return tokenResponse(emu, user, rt, {withRefreshToken: false})
  rt.revoked = true
  const lifetimeMin = rt.expires_at ? Math.ceil((Date.parse(rt.expires_at) - Date.parse(rt.created_at)) / 60_000) : undefined
  const renewed = createRefreshToken(emu, user, {labels: rt.labels, lifetimeMin, unusedMin: rt.revoke_unused_in ?? undefined})
  return tokenResponse(emu, user, renewed, {withRefreshToken: true})
}

/** POST /api/v1/auth/tokens: JSON or (as SPIRE sends) form-encoded; no grant_type means password (TF). */
function createToken({emu, body}) {
  checkBody(body, TOKEN_FIELDS)
  const grant = body.grant_type ?? 'password'
  checkEnum('grant_type', grant, GRANT_TYPES)
  if (body.cookies) throw fail.badRequest('cookies are not supported by the emulator')
  if (grant === 'password') return {status: 200, body: passwordGrant(emu, body)}
  if (grant === 'refresh_token') return {status: 200, body: refreshGrant(emu, body)}
  throw fail.badRequest(`grant_type ${grant} is not supported by the emulator`)
}

/** Form fields are strings: convert those the schema types as integers, booleans or lists. */
export function tokenFormBody(text) {
  const form = new URLSearchParams(text)
  const body = {}
  for (const key of new Set(form.keys())) {
    const value = form.get(key)
    const type = TOKEN_FIELDS[key]
    if (type === 'strings') body[key] = form.getAll(key)
    else if (type === 'integer' && /^-?\d+$/.test(value)) body[key] = Number(value)
    else if (type === 'boolean' && (value === 'true' || value === 'false')) body[key] = value === 'true'
    else body[key] = value
  }
  return body
}

// ---- refresh-token management

/** `-1Y-2M-5D`-style offsets from now, or an RFC 3339 time (spec §2.2). */
function parseRefreshedBefore(raw) {
  const relative = /^([+-]\d+[YMDhms])+$/.test(raw)
  if (!relative) {
    const t = Date.parse(raw)
    if (Number.isNaN(t)) throw fail.badRequest(`invalid value for query parameter refreshed_before: ${raw}`)
    return t
  }
  const d = new Date()
  const setters = {Y: 'FullYear', M: 'Month', D: 'Date', h: 'Hours', m: 'Minutes', s: 'Seconds'}
  for (const [, n, unit] of raw.matchAll(/([+-]\d+)([YMDhms])/g)) d[`setUTC${setters[unit]}`](d[`getUTC${setters[unit]}`]() + Number(n))
  return d.getTime()
}

function refreshTokenFilters(query) {
  const filters = []
  const userId = query.get('user_id')
  if (userId) filters.push((rt) => rt.user_id === userId)
  const labels = query.get('labels')
  if (labels) filters.push((rt) => labels.split(',').every((l) => rt.labels.includes(l)))
  if (!boolParam(query, 'expired', false)) filters.push((rt) => !refreshTokenExpired(rt))
  if (!boolParam(query, 'revoked', false)) filters.push((rt) => !rt.revoked)
  if (query.get('refreshed_before')) {
    const before = parseRefreshedBefore(query.get('refreshed_before'))
    filters.push((rt) => Date.parse(rt.refreshed_at ?? rt.created_at) < before)
  }
  return filters
}

/** Non-admins only see their own refresh tokens (INFERRED). */
function visibleRefreshToken({emu, principal, params}) {
  const rt = emu.state.refreshTokens.get(params.id)
  if (!rt || (!principal.isAdmin && rt.user_id !== principal.userId)) throw fail.notFound()
  return rt
}

function listRefreshTokens({emu, principal, query}) {
  const filters = refreshTokenFilters(query)
  if (!principal.isAdmin) filters.push((rt) => rt.user_id === principal.userId)
  const items = [...emu.state.refreshTokens.values()].filter((rt) => filters.every((f) => f(rt))).map(refreshTokenView)
  return {body: listEnvelope(items, query, emu.options.pageDefault, ['user_id', 'labels', 'expired', 'revoked', 'refreshed_before'])}
}

/** POST /api/v1/auth/revoke with {token, client_id} or {token, username, password}. */
function revokeRefreshToken({emu, body}) {
  checkBody(body, {token: 'string', client_id: 'string', username: 'string', password: 'string'}, ['token'])
  const rt = findRefreshToken(emu, body.token)
  const user = rt && emu.state.users.get(rt.user_id)
  const byClient = rt && body.client_id === rt.client_id
  const byPassword = user && body.username === user.username && body.password === user.password
  if (!rt || !(byClient || byPassword)) throw fail.unauthorized('Invalid token')
  rt.revoked = true
  return {status: 204}
}

export const authRoutes = [
  {method: 'POST', path: '/api/v1/auth/tokens', public: true, body: 'token', handler: createToken},
  {method: 'GET', path: '/api/v1/auth/tokens', handler: listRefreshTokens},
  {method: 'GET', path: '/api/v1/auth/tokens/:id', handler: (ctx) => ({body: refreshTokenView(visibleRefreshToken(ctx))})},
  {
    method: 'DELETE',
    path: '/api/v1/auth/tokens/:id',
    handler: (ctx) => {
      ctx.emu.state.refreshTokens.delete(visibleRefreshToken(ctx).id)
      return {status: 204}
    },
  },
  {method: 'POST', path: '/api/v1/auth/revoke', public: true, body: 'json', handler: revokeRefreshToken},
  {method: 'GET', path: '/api/v1/auth/self/user', handler: ({emu, principal}) => ({body: userView(emu, emu.state.users.get(principal.userId))})},
]
