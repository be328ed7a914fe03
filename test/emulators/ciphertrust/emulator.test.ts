// The CipherTrust Manager emulator over real HTTP(S): what clients rely on (spec
// /work/shared/specs/ciphertrust-api.md) and what it must reject the way CM does.
import {spawn} from 'node:child_process'
import {constants, createHash, createPublicKey, generateKeyPairSync, publicDecrypt, verify} from 'node:crypto'
import {readFileSync, rmSync} from 'node:fs'
import {request} from 'node:https'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {stdoutUntil} from '../../helpers/service.js'
import {startEmulator, type Emulator} from './server.js'

const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'server.js')
const ADMIN = {username: 'admin', password: 'Adm1n-Pw!'}

interface Reply {
  status: number
  type: string
  text: string
  body: any
}

interface CallOptions {
  json?: unknown
  form?: Record<string, string>
  raw?: Buffer | string
  jwt?: string
  headers?: Record<string, string>
}

async function call(emu: Emulator, method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {...(opts.jwt ? {authorization: `Bearer ${opts.jwt}`} : {}), ...opts.headers}
  let body: string | Buffer | undefined
  if (opts.json !== undefined) {
    headers['content-type'] ??= 'application/json'
    body = JSON.stringify(opts.json)
  } else if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded'
    body = new URLSearchParams(opts.form).toString()
  } else if (opts.raw !== undefined) {
    headers['content-type'] ??= 'application/octet-stream'
    body = opts.raw
  }
  const res = await fetch(`${emu.url}${path}`, {method, headers, body})
  const text = await res.text()
  const type = res.headers.get('content-type') ?? ''
  return {status: res.status, type, text, body: type.startsWith('application/json') ? JSON.parse(text) : undefined}
}

async function token(emu: Emulator, user = ADMIN, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await call(emu, 'POST', '/api/v1/auth/tokens', {json: {grant_type: 'password', ...user, ...extra}})
  expect(r.status, r.text).toBe(200)
  return r.body
}

const login = async (emu: Emulator, user = ADMIN): Promise<string> => (await token(emu, user)).jwt

const decodeJwt = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'))

/** CM's JSON error body (spec §1.5). */
function expectCmError(r: Reply, status: number, kind: string, message?: RegExp) {
  expect(r.status, r.text).toBe(status)
  expect(r.type).toMatch(/^application\/json/)
  expect(r.body).toEqual({code: expect.any(Number), codeDesc: expect.stringMatching(new RegExp(`^${kind}: `)), message: expect.any(String)})
  if (message) expect(r.body.message).toMatch(message)
}

const stopAll: Emulator[] = []
async function emulator(opts: Parameters<typeof startEmulator>[0] = {}): Promise<Emulator> {
  const emu = await startEmulator({users: [ADMIN], ...opts})
  stopAll.push(emu)
  return emu
}
afterAll(async () => {
  await Promise.all(stopAll.map((e) => e.stop()))
})

let emu: Emulator
let jwt: string
beforeAll(async () => {
  emu = await emulator()
  jwt = await login(emu)
})

describe('tokens', () => {
  it('the password grant answers a JWS with exp = iat + duration, sub = user id, and an opaque refresh token', async () => {
    const t = await token(emu)
    expect(t).toMatchObject({duration: 300, token_type: 'Bearer', refresh_token_id: expect.any(String), client_id: expect.any(String)})
    expect(t.refresh_token).toMatch(/^[A-Za-z0-9]{60}$/)
    const parts = t.jwt.split('.')
    expect(parts).toHaveLength(3)
    for (const p of parts) expect(p).toMatch(/^[A-Za-z0-9_-]+$/)
    const claims = decodeJwt(t.jwt)
    expect(claims.exp - claims.iat).toBe(300)
    expect(claims.sub).toMatch(/^local\|[0-9a-f-]{36}$/)
    expect(claims.cust.groups).toContain('admin')
  })

  it('works without grant_type (TF), form-encoded (SPIRE), and with a trailing slash (KRX)', async () => {
    expect((await call(emu, 'POST', '/api/v1/auth/tokens', {json: ADMIN})).status).toBe(200)
    const form = await call(emu, 'POST', '/api/v1/auth/tokens', {form: {grant_type: 'password', ...ADMIN}})
    expect(form.status, form.text).toBe(200)
    expect(form.body.jwt.split('.')).toHaveLength(3)
    expect((await call(emu, 'POST', '/api/v1/auth/tokens/', {json: ADMIN})).status).toBe(200)
  })

  it('the refresh grant answers a new JWT and no refresh token unless renew_refresh_token is set', async () => {
    const first = await token(emu)
    const json = await call(emu, 'POST', '/api/v1/auth/tokens', {json: {grant_type: 'refresh_token', refresh_token: first.refresh_token}})
    expect(json.status, json.text).toBe(200)
    expect(json.body.jwt).not.toBe(first.jwt)
    expect(json.body).not.toHaveProperty('refresh_token')
    const form = await call(emu, 'POST', '/api/v1/auth/tokens', {form: {grant_type: 'refresh_token', refresh_token: first.refresh_token}})
    expect(form.status, form.text).toBe(200)
    const renewed = await call(emu, 'POST', '/api/v1/auth/tokens', {json: {grant_type: 'refresh_token', refresh_token: first.refresh_token, renew_refresh_token: true}})
    expect(renewed.body.refresh_token).toMatch(/^[A-Za-z0-9]{60}$/)
    expect(renewed.body.refresh_token).not.toBe(first.refresh_token)
    // The renewed token replaces the old one.
    expectCmError(await call(emu, 'POST', '/api/v1/auth/tokens', {json: {grant_type: 'refresh_token', refresh_token: first.refresh_token}}), 401, 'NCERRUnauthorized')
    const again = await call(emu, 'POST', '/api/v1/auth/tokens', {form: {grant_type: 'refresh_token', refresh_token: renewed.body.refresh_token}})
    expect(again.status).toBe(200)
  })

  it('bad credentials are a JSON 401; malformed requests are 400 / 422 with the CM error body', async () => {
    expectCmError(await call(emu, 'POST', '/api/v1/auth/tokens', {json: {username: 'admin', password: 'wrong'}}), 401, 'NCERRUnauthorized')
    expectCmError(await call(emu, 'POST', '/api/v1/auth/tokens', {json: {username: 'nobody', password: 'x'}}), 401, 'NCERRUnauthorized')
    expectCmError(await call(emu, 'POST', '/api/v1/auth/tokens', {json: {...ADMIN, user: 'x'}}), 400, 'NCERRBadRequest', /unknown field "user"/)
    expectCmError(await call(emu, 'POST', '/api/v1/auth/tokens', {json: {...ADMIN, labels: 'cli'}}), 400, 'NCERRBadRequest')
    expectCmError(await call(emu, 'POST', '/api/v1/auth/tokens', {json: {username: 'admin'}}), 422, 'NCERRInvalidParamValue', /password/)
    expectCmError(await call(emu, 'POST', '/api/v1/auth/tokens', {json: {...ADMIN, grant_type: 'magic'}}), 422, 'NCERRInvalidParamValue')
    expectCmError(await call(emu, 'POST', '/api/v1/auth/tokens', {raw: '{', headers: {'content-type': 'application/json'}}), 400, 'NCERRBadRequest')
  })

  it('no bearer token is a plain-text 401; a bad or expired one a JSON 401 ("Token is expired")', async () => {
    const noBearer: Record<string, string>[] = [{}, {authorization: `Basic ${Buffer.from('admin:x').toString('base64')}`}]
    for (const headers of noBearer) {
      const r = await call(emu, 'GET', '/api/v1/vault/keys2', {headers})
      expect(r.status).toBe(401)
      expect(r.type).toMatch(/^text\/plain/)
      expect(r.text).toBe('Unauthorized\n')
    }
    expectCmError(await call(emu, 'GET', '/api/v1/vault/keys2', {jwt: 'not-a-jwt'}), 401, 'NCERRUnauthorized')
    const forged = `${jwt.split('.').slice(0, 2).join('.')}.${Buffer.alloc(32).toString('base64url')}`
    expectCmError(await call(emu, 'GET', '/api/v1/vault/keys2', {jwt: forged}), 401, 'NCERRUnauthorized', /signature/)

    const short = await emulator({tokenLifetimeSec: 1})
    const t = await token(short)
    expect(t.duration).toBe(1)
    expect((await call(short, 'GET', '/api/v1/vault/keys2', {jwt: t.jwt})).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expectCmError(await call(short, 'GET', '/api/v1/vault/keys2', {jwt: t.jwt}), 401, 'NCERRUnauthorized', /^Token is expired$/)
  })

  it('expireAllTokens() and faults.expireTokensAfterSec end JWTs early', async () => {
    const e = await emulator()
    const before = await login(e)
    e.expireAllTokens()
    expectCmError(await call(e, 'GET', '/api/v1/usermgmt/groups', {jwt: before}), 401, 'NCERRUnauthorized', /Token is expired/)
    const after = await login(e)
    expect((await call(e, 'GET', '/api/v1/usermgmt/groups', {jwt: after})).status).toBe(200)

    e.faults.expireTokensAfterSec = 0
    const doomed = await token(e)
    expect(doomed.duration).toBe(300) // the lifetime promised is unchanged
    expectCmError(await call(e, 'GET', '/api/v1/usermgmt/groups', {jwt: doomed.jwt}), 401, 'NCERRUnauthorized', /Token is expired/)
  })

  it('refresh tokens are listed as metadata only, can be fetched, labelled, expire, and be deleted or revoked', async () => {
    const e = await emulator()
    const admin = await login(e)
    const t = await token(e, ADMIN, {labels: ['cli', 'ci'], refresh_token_lifetime: 60})
    expect(t.refresh_token_expires_in).toBeGreaterThan(3590)
    const list = await call(e, 'GET', '/api/v1/auth/tokens?labels=cli', {jwt: admin})
    expect(list.body).toMatchObject({skip: 0, limit: 10, total: 1})
    expect(list.body.resources[0]).toMatchObject({id: t.refresh_token_id, labels: ['cli', 'ci'], revoked: false})
    expect(list.text).not.toContain(t.refresh_token)
    expect((await call(e, 'GET', `/api/v1/auth/tokens/${t.refresh_token_id}`, {jwt: admin})).body.id).toBe(t.refresh_token_id)
    expect((await call(e, 'DELETE', `/api/v1/auth/tokens/${t.refresh_token_id}`, {jwt: admin})).status).toBe(204)
    expectCmError(await call(e, 'POST', '/api/v1/auth/tokens', {json: {grant_type: 'refresh_token', refresh_token: t.refresh_token}}), 401, 'NCERRUnauthorized')

    const other = await token(e)
    expect((await call(e, 'POST', '/api/v1/auth/revoke', {json: {token: other.refresh_token, client_id: other.client_id}})).status).toBe(204)
    expect((await call(e, 'GET', '/api/v1/auth/tokens?revoked=true', {jwt: admin})).body.resources.some((r: any) => r.id === other.refresh_token_id && r.revoked)).toBe(true)
  })

  it('a token for another user (ksctl tokens create --issue-rt) carries that user and its groups', async () => {
    const user = {username: 'rt-user', password: 'Rt-User-Pw-1!'}
    expect((await call(emu, 'POST', '/api/v1/usermgmt/users', {jwt, json: user})).status).toBe(201)
    const t = await token(emu, user)
    expect(t.refresh_token).toMatch(/^[A-Za-z0-9]{60}$/)
    expect(decodeJwt(t.jwt).cust.groups).toEqual([])
    expect((await call(emu, 'GET', '/api/v1/auth/self/user', {jwt: t.jwt})).body).toMatchObject({username: 'rt-user', logins_count: 1})
  })
})

describe('users and groups', () => {
  it('creates a local user (snake_case, user_id local|uuid, no password); duplicates are 409', async () => {
    const r = await call(emu, 'POST', '/api/v1/usermgmt/users', {jwt, json: {username: 'alice', password: 'Alice-Pw-123', email: 'alice@example.com', name: 'Alice'}})
    expect(r.status, r.text).toBe(201)
    expect(r.body).toMatchObject({username: 'alice', email: 'alice@example.com', name: 'Alice', nickname: 'alice', logins_count: 0, last_login: null, login_flags: {prevent_ui_login: false}})
    expect(r.body.user_id).toMatch(/^local\|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(r.body.created_at).toMatch(/Z$/)
    expect(r.text).not.toContain('Alice-Pw-123')
    expectCmError(await call(emu, 'POST', '/api/v1/usermgmt/users', {jwt, json: {username: 'alice', password: 'Alice-Pw-123'}}), 409, 'NCERRConflict')
    expectCmError(await call(emu, 'POST', '/api/v1/usermgmt/users', {jwt, json: {username: 'al2', password: 'Alice-Pw-123', email: 'alice@example.com'}}), 409, 'NCERRConflict')
    expectCmError(await call(emu, 'POST', '/api/v1/usermgmt/users', {jwt, json: {username: 'weak', password: 'password'}}), 422, 'NCERRInvalidParamValue', /password policy/)
    expectCmError(await call(emu, 'POST', '/api/v1/usermgmt/users', {jwt, json: {username: 'x', password: 'Alice-Pw-123', groups: ['a']}}), 400, 'NCERRBadRequest')
    expectCmError(await call(emu, 'POST', '/api/v1/usermgmt/users', {jwt, json: {password: 'Alice-Pw-123'}}), 422, 'NCERRInvalidParamValue', /username/)

    const id = r.body.user_id as string
    for (const path of [`/api/v1/usermgmt/users/${encodeURIComponent(id)}`, `/api/v1/usermgmt/users/${id}`]) {
      expect((await call(emu, 'GET', path, {jwt})).body.username).toBe('alice')
    }
    expect((await call(emu, 'GET', '/api/v1/usermgmt/users/self', {jwt})).body.username).toBe('admin')
    const patched = await call(emu, 'PATCH', `/api/v1/usermgmt/users/${encodeURIComponent(id)}`, {jwt, json: {name: 'Alice B'}})
    expect(patched.body.name).toBe('Alice B')
    expect((await call(emu, 'DELETE', `/api/v1/usermgmt/users/${encodeURIComponent(id)}`, {jwt})).status).toBe(204)
    expectCmError(await call(emu, 'GET', `/api/v1/usermgmt/users/${encodeURIComponent(id)}`, {jwt}), 404, 'NCERRResourceNotFound', /Resource not found/)
  })

  it('lists in the envelope {skip, limit, total, resources}, 10 by default, paged with skip/limit', async () => {
    const e = await emulator()
    const admin = await login(e)
    for (let i = 0; i < 12; i++) await call(e, 'POST', '/api/v1/usermgmt/users', {jwt: admin, json: {username: `u${i}`, password: 'User-Pw-123'}})
    const first = await call(e, 'GET', '/api/v1/usermgmt/users', {jwt: admin})
    expect(first.body).toMatchObject({skip: 0, limit: 10, total: 13})
    expect(first.body.resources).toHaveLength(10)
    const rest = await call(e, 'GET', '/api/v1/usermgmt/users?skip=10&limit=10', {jwt: admin})
    expect(rest.body).toMatchObject({skip: 10, limit: 10, total: 13})
    expect(rest.body.resources.map((u: any) => u.username)).toEqual(['u9', 'u10', 'u11'])
    const named = await call(e, 'GET', '/api/v1/usermgmt/users?username=u1*&limit=0', {jwt: admin})
    expect(named.body.resources.map((u: any) => u.username)).toEqual(['u1', 'u10', 'u11'])
    const unknown = await call(e, 'GET', '/api/v1/usermgmt/users?colour=red', {jwt: admin})
    expect(unknown.body.messages).toEqual([expect.stringContaining('colour')])
    expectCmError(await call(e, 'GET', '/api/v1/usermgmt/users?limit=ten', {jwt: admin}), 400, 'NCERRBadRequest')
  })

  it('groups: create (empty name 422, duplicate 409), add and remove members, list members, delete', async () => {
    const r = await call(emu, 'POST', '/api/v1/usermgmt/groups', {jwt, json: {name: 'KES Service', description: 'kes'}})
    expect(r.status, r.text).toBe(201)
    expect(r.body).toMatchObject({name: 'KES Service', description: 'kes', users_count: 0, app_metadata: {}, client_metadata: {}, user_metadata: {}})
    expectCmError(await call(emu, 'POST', '/api/v1/usermgmt/groups', {jwt, json: {name: ''}}), 422, 'NCERRInvalidParamValue')
    expectCmError(await call(emu, 'POST', '/api/v1/usermgmt/groups', {jwt, json: {name: 'KES Service'}}), 409, 'NCERRConflict')

    const user = (await call(emu, 'POST', '/api/v1/usermgmt/users', {jwt, json: {username: 'bob', password: 'Bob-Pw-1234'}})).body
    const member = `/api/v1/usermgmt/groups/${encodeURIComponent('KES Service')}/users/${encodeURIComponent(user.user_id)}`
    const added = await call(emu, 'POST', member, {jwt})
    expect(added.status, added.text).toBe(200)
    expect(added.body).toMatchObject({name: 'KES Service', users_count: 1})
    const members = await call(emu, 'GET', `/api/v1/usermgmt/users?groups=${encodeURIComponent('KES Service')}&return_groups=true`, {jwt})
    expect(members.body.resources).toEqual([expect.objectContaining({username: 'bob', groups: ['KES Service']})])
    expect((await call(emu, 'GET', `/api/v1/usermgmt/groups?users=${encodeURIComponent(user.user_id)}`, {jwt})).body.resources.map((g: any) => g.name)).toEqual(['KES Service'])

    expect((await call(emu, 'DELETE', member, {jwt})).status).toBe(204)
    expectCmError(await call(emu, 'DELETE', member, {jwt}), 400, 'NCERRBadRequest', /not a member/)
    expectCmError(await call(emu, 'POST', `/api/v1/usermgmt/groups/nope/users/${encodeURIComponent(user.user_id)}`, {jwt}), 404, 'NCERRResourceNotFound')
    const meta = await call(emu, 'PATCH', `/api/v1/usermgmt/groups/${encodeURIComponent('KES Service')}`, {jwt, json: {app_metadata: {a: 1, b: 2}}})
    expect(meta.body.app_metadata).toEqual({a: 1, b: 2})
    const merged = await call(emu, 'PATCH', `/api/v1/usermgmt/groups/${encodeURIComponent('KES Service')}`, {jwt, json: {app_metadata: {a: null}}})
    expect(merged.body.app_metadata).toEqual({b: 2})
    expect((await call(emu, 'GET', '/api/v1/usermgmt/groups/Key%20Users', {jwt})).body.name).toBe('Key Users')
    expect((await call(emu, 'DELETE', `/api/v1/usermgmt/groups/${encodeURIComponent('KES Service')}`, {jwt})).status).toBe(204)
    expectCmError(await call(emu, 'GET', `/api/v1/usermgmt/groups/${encodeURIComponent('KES Service')}`, {jwt}), 404, 'NCERRResourceNotFound')
  })

  it('usermgmt is for administrators', async () => {
    const user = {username: 'carol', password: 'Carol-Pw-123'}
    await call(emu, 'POST', '/api/v1/usermgmt/users', {jwt, json: user})
    const carol = await login(emu, user)
    expectCmError(await call(emu, 'GET', '/api/v1/usermgmt/users', {jwt: carol}), 403, 'NCERRForbidden')
    expectCmError(await call(emu, 'POST', '/api/v1/usermgmt/groups', {jwt: carol, json: {name: 'g'}}), 403, 'NCERRForbidden')
    expect((await call(emu, 'GET', '/api/v1/usermgmt/users/self', {jwt: carol})).body.username).toBe('carol')
  })
})

describe('policies and attachments', () => {
  it('create, get, list, delete; attachments accept the policy name and echo its id', async () => {
    const e = await emulator()
    const admin = await login(e)
    const body = {allow: true, name: 'kes-policy', actions: ['CreateKey', 'ExportKey', 'ReadKey', 'DeleteKey'], resources: ['kylo:kylo:vault:secrets:*']}
    const p = await call(e, 'POST', '/api/v1/admin/policies', {jwt: admin, json: body})
    expect(p.status, p.text).toBe(201)
    expect(p.body).toMatchObject({...body, id: expect.any(String), uri: 'kylo:kylo:admin:policies:kes-policy', account: 'kylo:kylo:admin:accounts:kylo', createdAt: expect.any(String)})
    expectCmError(await call(e, 'POST', '/api/v1/admin/policies', {jwt: admin, json: body}), 409, 'NCERRConflict')
    expectCmError(await call(e, 'POST', '/api/v1/admin/policies', {jwt: admin, json: {name: 'p2', actions: []}}), 422, 'NCERRInvalidParamValue')
    expectCmError(await call(e, 'POST', '/api/v1/admin/policies', {jwt: admin, json: {name: 'p2', actions: 'ReadKey'}}), 400, 'NCERRBadRequest')
    expect((await call(e, 'GET', `/api/v1/admin/policies/${p.body.id}`, {jwt: admin})).body.name).toBe('kes-policy')
    expect((await call(e, 'GET', '/api/v1/admin/policies', {jwt: admin})).body).toMatchObject({total: 1, limit: 10})

    const a = await call(e, 'POST', '/api/v1/admin/policy-attachments', {jwt: admin, json: {policy: 'kes-policy', principalSelector: {cust: {groups: ['KES-Service']}}}})
    expect(a.status, a.text).toBe(201)
    expect(a.body).toMatchObject({id: expect.any(String), uri: expect.any(String), account: expect.any(String), createdAt: expect.any(String), policy: p.body.id, principalSelector: {cust: {groups: ['KES-Service']}}})
    expectCmError(await call(e, 'POST', '/api/v1/admin/policy-attachments', {jwt: admin, json: {policy: 'nope', principalSelector: {user: 'x'}}}), 404, 'NCERRResourceNotFound')
    expectCmError(await call(e, 'POST', '/api/v1/admin/policy-attachments', {jwt: admin, json: {policy: 'kes-policy'}}), 422, 'NCERRInvalidParamValue')
    expect((await call(e, 'PATCH', `/api/v1/admin/policy-attachments/${a.body.id}`, {jwt: admin, json: {}})).status).toBe(405)
    expectCmError(await call(e, 'DELETE', `/api/v1/admin/policies/${p.body.id}`, {jwt: admin}), 409, 'NCERRConflict')
    expect((await call(e, 'DELETE', `/api/v1/admin/policy-attachments/${a.body.id}`, {jwt: admin})).status).toBe(204)
    expect((await call(e, 'DELETE', `/api/v1/admin/policies/${p.body.id}`, {jwt: admin})).status).toBe(204)
    expectCmError(await call(e, 'GET', `/api/v1/admin/policies/${p.body.id}`, {jwt: admin}), 404, 'NCERRResourceNotFound')
  })

  it('the KES set-up: group members get exactly what the attached policy allows; others see 404', async () => {
    const e = await emulator()
    const admin = await login(e)
    const kes = {username: 'kes-user', password: 'Kes-User-Pw-1!'}
    const other = {username: 'other', password: 'Other-Pw-12!'}
    const kesUser = (await call(e, 'POST', '/api/v1/usermgmt/users', {jwt: admin, json: kes})).body
    await call(e, 'POST', '/api/v1/usermgmt/users', {jwt: admin, json: other})
    await call(e, 'POST', '/api/v1/usermgmt/groups', {jwt: admin, json: {name: 'KES-Service'}})
    await call(e, 'POST', `/api/v1/usermgmt/groups/KES-Service/users/${encodeURIComponent(kesUser.user_id)}`, {jwt: admin})
    await call(e, 'POST', '/api/v1/admin/policies', {jwt: admin, json: {allow: true, name: 'kes-policy', actions: ['CreateKey', 'ExportKey', 'ReadKey', 'DeleteKey'], resources: ['kylo:kylo:vault:secrets:*']}})
    await call(e, 'POST', '/api/v1/admin/policy-attachments', {jwt: admin, json: {policy: 'kes-policy', principalSelector: {cust: {groups: ['KES-Service']}}}})

    const k = await login(e, kes)
    expect((await call(e, 'POST', '/api/v1/vault/secrets', {jwt: k, json: {name: 'my-key', dataType: 'seed', material: 'c2VjcmV0'}})).status).toBe(201)
    expect((await call(e, 'POST', '/api/v1/vault/secrets/my-key/export?type=name', {jwt: k})).body.material).toBe('c2VjcmV0')
    expectCmError(await call(e, 'POST', '/api/v1/vault/keys2', {jwt: k, json: {name: 'x', meta: {ownerId: kesUser.user_id}}}), 403, 'NCERRForbidden')
    expectCmError(await call(e, 'POST', '/api/v1/vault/keys2', {jwt: k, json: {name: 'x'}}), 422, 'NCERRInvalidParamValue', /ownerId/)
    expectCmError(await call(e, 'GET', '/api/v1/usermgmt/users', {jwt: k}), 403, 'NCERRForbidden')

    const o = await login(e, other)
    expectCmError(await call(e, 'POST', '/api/v1/vault/secrets/my-key/export?type=name', {jwt: o}), 404, 'NCERRResourceNotFound')
    expect((await call(e, 'GET', '/api/v1/vault/secrets', {jwt: o})).body.total).toBe(0)
    expect((await call(e, 'DELETE', '/api/v1/vault/secrets/my-key?type=name', {jwt: k})).status).toBe(204)
  })
})

describe('keys', () => {
  it('creates EC P-256, RSA and AES keys: version 0, upper-case algorithm, PEM publickey for asymmetric keys', async () => {
    const ec = await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'ec-key', algorithm: 'ec', curveid: 'prime256v1', usageMask: 3, labels: {env: 'test'}, meta: {ownerId: 'local|x'}, unexportable: true}})
    expect(ec.status, ec.text).toBe(201)
    expect(ec.body).toMatchObject({name: 'ec-key', version: 0, algorithm: 'EC', size: 256, curveid: 'prime256v1', usageMask: 3, objectType: 'Private Key', state: 'Active', labels: {env: 'test'}, meta: {ownerId: 'local|x'}, unexportable: true, uri: 'kylo:kylo:vault:keys:ec-key'})
    expect(createPublicKey(ec.body.publickey).asymmetricKeyDetails).toEqual({namedCurve: 'prime256v1'})
    expect(ec.body).not.toHaveProperty('material')

    const rsa = await call(emu, 'POST', '/api/v1/vault/keys2/', {jwt, json: {name: 'rsa-key', algorithm: 'RSA', size: 2048, usageMask: 3}})
    expect(rsa.status, rsa.text).toBe(201)
    expect(createPublicKey(rsa.body.publickey).asymmetricKeyDetails?.modulusLength).toBe(2048)

    const aes = await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'aes-key'}})
    expect(aes.body).toMatchObject({algorithm: 'AES', size: 256, objectType: 'Symmetric Key'})
    expect(aes.body).not.toHaveProperty('publickey')
  })

  it('rejects duplicates (409 NCERRKeyAlreadyExists, unless returnExisting) and wrong shapes', async () => {
    const first = await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'dup'}})
    expectCmError(await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'dup'}}), 409, 'NCERRKeyAlreadyExists')
    const existing = await call(emu, 'POST', '/api/v1/vault/keys2?returnExisting=true', {jwt, json: {name: 'dup'}})
    expect(existing.status).toBe(200)
    expect(existing.body.id).toBe(first.body.id)
    const withMaterial = await call(emu, 'POST', '/api/v1/vault/keys2?includeMaterial=true', {jwt, json: {name: 'with-material', algorithm: 'aes', size: 128}})
    expect(withMaterial.body.material).toMatch(/^[0-9a-f]{32}$/)
    expect(createHash('sha256').update(Buffer.from(withMaterial.body.material, 'hex')).digest('hex')).toBe(withMaterial.body.sha256Fingerprint)
    expectCmError(await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'k', size: '256'}}), 400, 'NCERRBadRequest')
    expectCmError(await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'k', usage_mask: 3}}), 400, 'NCERRBadRequest', /usage_mask/)
    expectCmError(await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'k', labels: {a: 1}}}), 400, 'NCERRBadRequest')
    expectCmError(await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'k', algorithm: 'rot13'}}), 422, 'NCERRInvalidParamValue')
    expectCmError(await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'k', algorithm: 'aes', size: 100}}), 422, 'NCERRInvalidParamValue')
    expectCmError(await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'k', algorithm: 'ec', curveid: 'p256'}}), 422, 'NCERRInvalidParamValue')
    expectCmError(await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'k', labels: {'-bad': 'x'}}}), 422, 'NCERRInvalidParamValue')
    expectCmError(await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {algorithm: 'aes'}}), 422, 'NCERRInvalidParamValue', /name/)
    expectCmError(await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: [{name: 'k'}]}), 400, 'NCERRBadRequest')
  })

  it('gets a key by id, by name (?type=name or inferred), by URI; a missing key is 404 "Resource not found"', async () => {
    const k = (await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'Get-Me', aliases: [{alias: 'get-me-alias', type: 'string'}]}})).body
    expect(k.aliases).toEqual([{alias: 'get-me-alias', type: 'string', index: 0}])
    for (const path of [`/api/v1/vault/keys2/${k.id}`, '/api/v1/vault/keys2/Get-Me?type=name', '/api/v1/vault/keys2/Get-Me', '/api/v1/vault/keys2/get-me-alias?type=alias', `/api/v1/vault/keys2/${k.uuid}`]) {
      expect((await call(emu, 'GET', path, {jwt})).body.id, path).toBe(k.id)
    }
    expect(k.uri).toBe('kylo:kylo:vault:keys:get-me')
    expectCmError(await call(emu, 'GET', '/api/v1/vault/keys2/absent?type=name', {jwt}), 404, 'NCERRResourceNotFound', /^Resource not found$/)
    expectCmError(await call(emu, 'GET', `/api/v1/vault/keys2/${k.id}?type=colour`, {jwt}), 400, 'NCERRBadRequest')
    expectCmError(await call(emu, 'GET', `/api/v1/vault/keys2/${k.id}?type=id&version=0`, {jwt}), 400, 'NCERRBadRequest')
  })

  it('lists 10 by default and pages through seeded keys; ?name= finds a name', async () => {
    const e = await emulator()
    const admin = await login(e)
    e.seedKeys(25, (i) => ({name: `page-${String(i).padStart(2, '0')}`}))
    const first = await call(e, 'GET', '/api/v1/vault/keys2', {jwt: admin})
    expect(first.body).toMatchObject({skip: 0, limit: 10, total: 25})
    expect(first.body.resources.map((k: any) => k.name)).toEqual(Array.from({length: 10}, (_, i) => `page-${String(i).padStart(2, '0')}`))
    const names: string[] = []
    for (let skip = 0; ; skip += 7) {
      const page = await call(e, 'GET', `/api/v1/vault/keys2?skip=${skip}&limit=7`, {jwt: admin})
      expect(page.body.skip).toBe(skip)
      names.push(...page.body.resources.map((k: any) => k.name))
      if (page.body.resources.length < 7) break
    }
    expect(new Set(names).size).toBe(25)
    const past = await call(e, 'GET', '/api/v1/vault/keys2?skip=100', {jwt: admin})
    expect(past.body).toMatchObject({skip: 100, total: 25, resources: []})
    const byName = await call(e, 'GET', '/api/v1/vault/keys2?limit=0&name=page-07', {jwt: admin})
    expect(byName.body).toMatchObject({limit: 10, total: 1})
  })

  it('filters by labels: k=v,k2=v2 is AND, k= matches an empty tag, and selector operators', async () => {
    const e = await emulator()
    const admin = await login(e)
    e.seedKeys(6, (i) => ({name: `l${i}`, labels: [{a: '1', b: '1'}, {a: '1', b: '2'}, {a: '2', b: '1'}, {a: '1', critical: ''}, {b: '1'}, {}][i]}))
    const names = async (selector: string) => (await call(e, 'GET', `/api/v1/vault/keys2?labels=${encodeURIComponent(selector)}`, {jwt: admin})).body.resources.map((k: any) => k.name)
    expect(await names('a=1,b=1')).toEqual(['l0'])
    expect(await names('a=1')).toEqual(['l0', 'l1', 'l3'])
    expect(await names('critical=')).toEqual(['l3'])
    expect(await names('a!=1')).toEqual(['l2', 'l4', 'l5'])
    expect(await names('b in (1,2),a')).toEqual(['l0', 'l1', 'l2'])
    expect(await names('!a')).toEqual(['l4', 'l5'])
    // SPIRE's unencoded form reaches the server the same way.
    expect((await call(e, 'GET', '/api/v1/vault/keys2?skip=0&algorithm=AES&labels=a=1,b=2', {jwt: admin})).body.resources.map((k: any) => k.name)).toEqual(['l1'])
    expectCmError(await call(e, 'GET', `/api/v1/vault/keys2?labels=${encodeURIComponent('a=(1')}`, {jwt: admin}), 400, 'NCERRBadRequest')
  })

  it('PATCH merges labels (null deletes one) and adds or removes aliases', async () => {
    const k = (await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'patch-me', labels: {a: '1', b: '2'}, aliases: [{alias: 'pm', type: 'string'}]}})).body
    const r = await call(emu, 'PATCH', `/api/v1/vault/keys2/${k.id}`, {jwt, json: {labels: {b: null, c: '3'}, aliases: [{index: 0}]}})
    expect(r.status, r.text).toBe(200)
    expect(r.body.labels).toEqual({a: '1', c: '3'})
    expect(r.body.aliases).toEqual([])
    expectCmError(await call(emu, 'PATCH', `/api/v1/vault/keys2/${k.id}`, {jwt, json: {name: 'renamed'}}), 400, 'NCERRBadRequest')
  })

  it('a new version is a new object (new id, version + 1, labels copied); names resolve to the latest', async () => {
    const v0 = (await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'rotate-me', algorithm: 'ec', labels: {app: 'x'}}})).body
    const v1 = await call(emu, 'POST', '/api/v1/vault/keys2/rotate-me/versions/?type=name', {jwt, json: {}})
    expect(v1.status, v1.text).toBe(201)
    expect(v1.body).toMatchObject({name: 'rotate-me', version: 1, labels: {app: 'x'}, algorithm: 'EC', curveid: 'prime256v1'})
    expect(v1.body.id).not.toBe(v0.id)
    expect(v1.body.publickey).not.toBe(v0.publickey)
    const v2 = await call(emu, 'POST', `/api/v1/vault/keys2/${v1.body.id}/versions`, {jwt})
    expect(v2.body.version).toBe(2)
    expect((await call(emu, 'GET', '/api/v1/vault/keys2/rotate-me?type=name', {jwt})).body.version).toBe(2)
    expect((await call(emu, 'GET', '/api/v1/vault/keys2/rotate-me?type=name&version=0', {jwt})).body.id).toBe(v0.id)
    const all = await call(emu, 'GET', '/api/v1/vault/keys2?name=rotate-me', {jwt})
    expect(all.body.resources.map((k: any) => k.version)).toEqual([0, 1, 2])
  })

  it('destroy, revoke and reactivate change the state; delete answers 204 and refuses undeletable keys', async () => {
    const k = (await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'life', algorithm: 'ec'}})).body
    const revoked = await call(emu, 'POST', `/api/v1/vault/keys2/${k.id}/revoke`, {jwt, json: {reason: 'Superseded'}})
    expect(revoked.body.state).toBe('Deactivated')
    expectCmError(await call(emu, 'POST', `/api/v1/vault/keys2/${k.id}/revoke`, {jwt, json: {reason: 'Bored'}}), 422, 'NCERRInvalidParamValue')
    expect((await call(emu, 'POST', `/api/v1/vault/keys2/${k.id}/reactivate`, {jwt, json: {reason: 'DeactivatedToActive'}})).body.state).toBe('Active')
    const destroyed = await call(emu, 'POST', `/api/v1/vault/keys2/${k.id}/destroy`, {jwt})
    expect(destroyed.status, destroyed.text).toBe(200)
    expect(destroyed.body).toMatchObject({state: 'Destroyed', destroyDate: expect.any(String)})
    expectCmError(await call(emu, 'POST', '/api/v1/crypto/sign?keyName=life&hashAlgo=SHA-256&signAlgo=ECDSA', {jwt, raw: 'x'}), 422, 'NCERRInvalidParamValue')
    expect((await call(emu, 'DELETE', `/api/v1/vault/keys2/${k.id}`, {jwt})).status).toBe(204)
    expectCmError(await call(emu, 'GET', `/api/v1/vault/keys2/${k.id}`, {jwt}), 404, 'NCERRResourceNotFound')

    const keep = (await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'keep', undeletable: true}})).body
    expectCmError(await call(emu, 'DELETE', `/api/v1/vault/keys2/${keep.id}`, {jwt}), 422, 'NCERRInvalidParamValue')
  })

  it('keys past their deactivationDate are Deactivated; a future activationDate is Pre-Active', async () => {
    const soon = new Date(Date.now() + 300).toISOString()
    const k = (await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'deact', deactivationDate: soon}})).body
    expect(k.state).toBe('Active')
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect((await call(emu, 'GET', `/api/v1/vault/keys2/${k.id}`, {jwt})).body.state).toBe('Deactivated')
    const later = new Date(Date.now() + 3_600_000).toISOString()
    expect((await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'pre', activationDate: later}})).body.state).toBe('Pre-Active')
  })

  it('handles 10,000 keys: seeding is direct, paging returns every key once, filters stay exact', async () => {
    const e = await emulator()
    const admin = await login(e)
    e.seedKeys(10_000, (i) => ({name: `bulk-${i}`, labels: {shard: String(i % 4)}}))
    const seen = new Set<string>()
    for (let skip = 0; ; skip += 1000) {
      const page = await call(e, 'GET', `/api/v1/vault/keys2?skip=${skip}&limit=1000`, {jwt: admin})
      expect(page.body.total).toBe(10_000)
      for (const k of page.body.resources) seen.add(k.name)
      if (skip + 1000 >= page.body.total) break
    }
    expect(seen.size).toBe(10_000)
    const shard = await call(e, 'GET', '/api/v1/vault/keys2?labels=shard=3&limit=1', {jwt: admin})
    expect(shard.body.total).toBe(2500)
  })
})

describe('crypto sign and signv', () => {
  const sign = (query: string, data: Buffer | string, headers: Record<string, string> = {}) => call(emu, 'POST', `/api/v1/crypto/sign?${query}`, {jwt, raw: data, headers})
  let ecPem: string
  let rsaPem: string

  beforeAll(async () => {
    ecPem = (await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'signer-ec', algorithm: 'ec', curveid: 'prime256v1', usageMask: 3}})).body.publickey
    rsaPem = (await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'signer-rsa', algorithm: 'rsa', size: 2048, usageMask: 3}})).body.publickey
  })

  it('ECDSA over SHA-256: hex DER signature that verifies with the key\'s publickey', async () => {
    const r = await sign('keyName=signer-ec&hashAlgo=SHA-256&signAlgo=ECDSA', 'hello')
    expect(r.status, r.text).toBe(200)
    expect(r.body).toEqual({data: expect.stringMatching(/^30[0-9a-f]+$/), keyId: expect.any(String), keyVersion: 0})
    expect(verify('sha256', Buffer.from('hello'), ecPem, Buffer.from(r.body.data, 'hex'))).toBe(true)
    const ok = await call(emu, 'POST', `/api/v1/crypto/signv?keyName=signer-ec&hashAlgo=SHA-256&signAlgo=ECDSA&signature=${r.body.data}`, {jwt, raw: 'hello'})
    expect(ok.body).toEqual({verified: true})
    const bad = await call(emu, 'POST', `/api/v1/crypto/signv?keyName=signer-ec&hashAlgo=SHA-256&signAlgo=ECDSA&signature=${r.body.data}`, {jwt, raw: 'hellO'})
    expect(bad.body).toEqual({verified: false})
  })

  it('hashAlgo=none signs the digest given (SPIRE) for ECDSA and RSA', async () => {
    const digest = createHash('sha256').update('payload').digest()
    const ec = await sign('keyName=signer-ec&version=0&hashAlgo=none&signAlgo=ECDSA', digest)
    expect(ec.status, ec.text).toBe(200)
    expect(verify('sha256', Buffer.from('payload'), ecPem, Buffer.from(ec.body.data, 'hex'))).toBe(true)
    const rsa = await sign('keyName=signer-rsa&hashAlgo=none&signAlgo=RSA', digest)
    expect(publicDecrypt({key: rsaPem, padding: constants.RSA_PKCS1_PADDING}, Buffer.from(rsa.body.data, 'hex'))).toEqual(digest)
    const v = await call(emu, 'POST', `/api/v1/crypto/signv?keyName=signer-ec&hashAlgo=none&signAlgo=ECDSA&signature=${ec.body.data}`, {jwt, raw: digest})
    expect(v.body).toEqual({verified: true})
  })

  it('RSA PKCS#1 v1.5 over SHA-256; signAlgo defaults to RSA', async () => {
    const r = await sign('keyName=signer-rsa&hashAlgo=SHA256', 'data')
    expect(r.status, r.text).toBe(200)
    expect(verify('sha256', Buffer.from('data'), {key: rsaPem, padding: constants.RSA_PKCS1_PADDING}, Buffer.from(r.body.data, 'hex'))).toBe(true)
  })

  it('rejects what CM rejects', async () => {
    expectCmError(await sign('keyName=signer-ec&hashAlgo=SHA-256&signAlgo=RSA', 'x'), 422, 'NCERRInvalidParamValue')
    expectCmError(await sign('keyName=signer-ec&hashAlgo=MD5&signAlgo=ECDSA', 'x'), 422, 'NCERRInvalidParamValue')
    expectCmError(await sign('keyName=signer-ec&signAlgo=ECDSA', 'x'), 422, 'NCERRInvalidParamValue', /hashAlgo/)
    expectCmError(await sign('keyName=absent&hashAlgo=SHA-256&signAlgo=ECDSA', 'x'), 404, 'NCERRResourceNotFound')
    expectCmError(await sign('keyName=signer-ec&hashAlgo=SHA-256&signAlgo=ECDSA&signPad=PSS', 'x'), 400, 'NCERRBadRequest', /signPad/)
    expectCmError(await sign('keyName=signer-ec&hashAlgo=SHA-256&signAlgo=ECDSA', 'x', {'content-type': 'application/json'}), 400, 'NCERRBadRequest')
    expectCmError(await sign('keyName=signer-ec&hashAlgo=SHA-256&signAlgo=ECDSA', 'x', {accept: 'text/plain'}), 400, 'NCERRBadRequest', /Accept/)
    await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'verify-only', algorithm: 'ec', usageMask: 2}})
    expectCmError(await sign('keyName=verify-only&hashAlgo=SHA-256&signAlgo=ECDSA', 'x'), 422, 'NCERRInvalidParamValue', /usage mask/)
    // The verify endpoint is signv: /crypto/verify does not exist.
    expect((await call(emu, 'POST', '/api/v1/crypto/verify?keyName=signer-ec', {jwt, raw: 'x'})).status).toBe(404)
  })

  it('signs with an imported key (PEM material)', async () => {
    const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
    const material = privateKey.export({type: 'pkcs8', format: 'pem'}).toString()
    const k = await call(emu, 'POST', '/api/v1/vault/keys2', {jwt, json: {name: 'imported', algorithm: 'ec', material, usageMask: 3}})
    expect(k.status, k.text).toBe(201)
    expect(k.body.publickey).toBe(publicKey.export({type: 'spki', format: 'pem'}))
    const r = await sign('keyName=imported&hashAlgo=SHA-384&signAlgo=ECDSA', 'x')
    expect(verify('sha384', Buffer.from('x'), publicKey, Buffer.from(r.body.data, 'hex'))).toBe(true)
  })
})

describe('secrets', () => {
  it('create 201, duplicate 409, export by name, list, delete 204, then 404', async () => {
    const r = await call(emu, 'POST', '/api/v1/vault/secrets', {jwt, json: {name: 'kes-key', dataType: 'seed', material: 'not really hex'}})
    expect(r.status, r.text).toBe(201)
    expect(r.body).toMatchObject({name: 'kes-key', dataType: 'seed', version: 0, uri: 'kylo:kylo:vault:secrets:kes-key'})
    expect(r.body).not.toHaveProperty('material')
    expectCmError(await call(emu, 'POST', '/api/v1/vault/secrets', {jwt, json: {name: 'kes-key', dataType: 'seed', material: 'x'}}), 409, 'NCERRConflict')
    expectCmError(await call(emu, 'POST', '/api/v1/vault/secrets', {jwt, json: {name: 's', dataType: 'pdf', material: 'x'}}), 422, 'NCERRInvalidParamValue')
    const exported = await call(emu, 'POST', '/api/v1/vault/secrets/kes-key/export?type=name', {jwt})
    expect(exported.body.material).toBe('not really hex')
    const list = await call(emu, 'GET', '/api/v1/vault/secrets?limit=200&skip=0', {jwt})
    expect(list.body.resources.map((s: any) => s.name)).toContain('kes-key')
    expect(list.text).not.toContain('not really hex')
    expect((await call(emu, 'DELETE', '/api/v1/vault/secrets/kes-key?type=name', {jwt})).status).toBe(204)
    expectCmError(await call(emu, 'POST', '/api/v1/vault/secrets/kes-key/export?type=name', {jwt}), 404, 'NCERRResourceNotFound')
    expectCmError(await call(emu, 'DELETE', '/api/v1/vault/secrets/kes-key?type=name', {jwt}), 404, 'NCERRResourceNotFound')
  })
})

describe('faults', () => {
  let e: Emulator
  let admin: string
  beforeAll(async () => {
    e = await emulator()
    admin = await login(e)
  })
  afterEach(() => {
    Object.assign(e.faults, {latencyMs: 0, fail5xx: 0, fail5xxMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], force409: 0, expireTokensAfterSec: null})
  })

  it('fail5xx answers the next N requests 503 with a CM error body, then recovers', async () => {
    e.faults.fail5xx = 2
    expectCmError(await call(e, 'GET', '/api/v1/usermgmt/groups', {jwt: admin}), 503, 'NCERRServiceUnavailable')
    expectCmError(await call(e, 'POST', '/api/v1/auth/tokens', {json: ADMIN}), 503, 'NCERRServiceUnavailable')
    expect((await call(e, 'GET', '/api/v1/usermgmt/groups', {jwt: admin})).status).toBe(200)
  })

  it('fail5xxMethods limits the burst to some methods', async () => {
    e.faults.fail5xx = 1
    e.faults.fail5xxMethods = ['POST']
    expect((await call(e, 'GET', '/api/v1/usermgmt/groups', {jwt: admin})).status).toBe(200)
    expect((await call(e, 'POST', '/api/v1/usermgmt/groups', {jwt: admin, json: {name: 'f1'}})).status).toBe(503)
    expect((await call(e, 'POST', '/api/v1/usermgmt/groups', {jwt: admin, json: {name: 'f1'}})).status).toBe(201)
    const posts = e.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/usermgmt/groups')
    expect(posts.map((r) => r.status)).toEqual([503, 201])
  })

  it('force409 answers the next N creates 409 without creating anything', async () => {
    e.faults.force409 = 1
    expectCmError(await call(e, 'POST', '/api/v1/vault/keys2', {jwt: admin, json: {name: 'f409'}}), 409, 'NCERRKeyAlreadyExists')
    expect((await call(e, 'GET', '/api/v1/vault/keys2?name=f409', {jwt: admin})).body.total).toBe(0)
    expect((await call(e, 'POST', '/api/v1/vault/keys2', {jwt: admin, json: {name: 'f409'}})).status).toBe(201)
    e.faults.force409 = 1
    expectCmError(await call(e, 'POST', '/api/v1/usermgmt/groups', {jwt: admin, json: {name: 'f409'}}), 409, 'NCERRConflict')
  })

  it('latencyMs delays answers', async () => {
    e.faults.latencyMs = 150
    const start = Date.now()
    await call(e, 'GET', '/api/v1/usermgmt/groups', {jwt: admin})
    expect(Date.now() - start).toBeGreaterThanOrEqual(140)
  })

  it('logs every request with method, path, query and status', async () => {
    await call(e, 'GET', '/api/v1/vault/keys2/?skip=0&limit=5', {jwt: admin})
    expect(e.requests.at(-1)).toEqual({method: 'GET', path: '/api/v1/vault/keys2/', query: {skip: '0', limit: '5'}, status: 200})
    expect((await call(e, 'GET', '/api/v1/nothing-here', {jwt: admin})).text).toBe('404 page not found\n')
    expect(e.requests.at(-1)?.status).toBe(404)
  })
})

describe('HTTPS', () => {
  function get(url: string, ca?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      request(`${url}/api/v1/vault/keys2`, {ca}, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
        .on('error', reject)
        .end()
    })
  }

  it('serves a certificate for 127.0.0.1 signed by the CA in caPem', async () => {
    const e = await emulator({https: true})
    expect(e.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(e.caPem).toMatch(/^-----BEGIN CERTIFICATE-----/)
    await expect(get(e.url)).rejects.toThrow(/certificate/i)
    expect(await get(e.url, e.caPem)).toBe(401)
    expect(await get(e.url.replace('127.0.0.1', 'localhost'), e.caPem)).toBe(401)
  })
})

describe('command line', () => {
  it('prints the URL and the CA file, serves, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [SERVER, '--port', '0', '--https', '--user', 'ops', '--password', 'ops-pw'], {stdio: ['ignore', 'pipe', 'pipe']})
    try {
      const out = await stdoutUntil(child, /CA certificate: \S+/)
      const url = /listening on (https:\/\/\S+)/.exec(out)![1]!
      const caFile = /CA certificate: (\S+)/.exec(out)![1]!
      const ca = readFileSync(caFile, 'utf8')
      rmSync(dirname(caFile), {recursive: true, force: true})
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${url}/api/v1/auth/tokens`, {method: 'POST', ca, headers: {'content-type': 'application/json'}}, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end(JSON.stringify({username: 'ops', password: 'ops-pw'}))
      })
      expect(status).toBe(200)
      const exited = new Promise((resolve) => child.on('exit', resolve))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      child.kill('SIGKILL')
    }
  })
})
