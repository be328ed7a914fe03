// /api/v1/usermgmt: local users and groups (spec §3, §4). Users are snake_case objects with
// user_id "local|<uuid>"; groups have no id, their name is the key in every path.
import {randomUUID} from 'node:crypto'

import {fail} from './errors.js'
import {requireAdmin} from './policies.js'
import {boolParam, checkBody, checkEnum, isPlainObject, listEnvelope, wildcard} from './validate.js'

/** The root domain's id; the real value is UNKNOWN (a zero UUID). */
const ROOT_DOMAIN_ID = '00000000-0000-0000-0000-000000000000'

/** Built-in groups (spec §4, TD-POL); `admin` grants everything in the emulator. */
const BUILTIN_GROUPS = ['admin', 'Key Admins', 'Key Users', 'User Admins']

const USER_FIELDS = {
  username: 'string',
  password: 'string',
  name: 'string',
  email: 'string',
  nickname: 'string',
  connection: 'string',
  is_domain_user: 'boolean',
  login_flags: 'object',
  password_change_required: 'boolean',
  password_policy: 'string',
  expires_at: 'date',
  allowed_auth_methods: 'strings',
  allowed_client_types: 'strings',
  certificate_subject_dn: 'string',
  enable_cert_auth: 'boolean',
  user_id: 'string',
  app_metadata: 'object',
  user_metadata: 'object',
  // Terraform sends full_name; CM evidently accepts it (TF works) and keeps `name` (spec §3.1).
  full_name: 'string',
}

const USER_PATCH_FIELDS = {
  name: 'string',
  email: 'string',
  password: 'string',
  username: 'string',
  password_change_required: 'boolean',
  failed_logins_count: 'integer',
  login_flags: 'object',
  expires_at: 'date',
  password_policy: 'string',
  allowed_auth_methods: 'strings',
  allowed_client_types: 'strings',
}

const AUTH_METHODS = ['password', 'user_certificate', 'password_with_user_certificate', 'empty']
const CLIENT_TYPES = ['unregistered', 'public', 'confidential']
const GROUP_FIELDS = {name: 'string', description: 'string', app_metadata: 'object', client_metadata: 'object', user_metadata: 'object'}

// ---- users

export function findUserByName(emu, username) {
  for (const user of emu.state.users.values()) if (user.username === username) return user
  return undefined
}

export function groupsOf(emu, userId) {
  return [...emu.state.groups.values()].filter((g) => g.members.has(userId)).map((g) => g.name)
}

export function userView(emu, {password: _secret, ...user}, {withGroups = false} = {}) {
  return withGroups ? {...user, groups: groupsOf(emu, user.user_id)} : user
}

/**
 * CM checks passwords against its password policy; the emulator applies what is believed to be the
 * default (INFERRED): 8 to 30 characters with an upper-case letter, a lower-case letter, a digit and
 * another character.
 */
function checkPasswordPolicy(password) {
  const rules = [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/]
  if (password.length < 8 || password.length > 30 || !rules.every((r) => r.test(password))) {
    throw fail.invalid('password does not meet the password policy: 8-30 characters with upper-case, lower-case, digit and other characters')
  }
}

function checkUserValues(emu, body, self) {
  if (body.allowed_auth_methods) for (const m of body.allowed_auth_methods) checkEnum('allowed_auth_methods', m, AUTH_METHODS)
  if (body.allowed_client_types) for (const t of body.allowed_client_types) checkEnum('allowed_client_types', t, CLIENT_TYPES)
  if (body.login_flags) checkBody(body.login_flags, {prevent_ui_login: 'boolean'})
  // No named password policies exist in the emulator.
  if (body.password_policy) throw fail.invalid(`password policy "${body.password_policy}" not found`)
  const other = body.username && findUserByName(emu, body.username)
  if (other && other !== self) throw fail.conflict('User already exists')
  if (body.email && [...emu.state.users.values()].some((u) => u !== self && u.email === body.email)) throw fail.conflict('email is already in use')
}

/** Creates a local user; `seeded` users (startEmulator's option) skip the password policy. */
export function createUser(emu, body, {seeded = false} = {}) {
  checkBody(body, USER_FIELDS, ['username', 'password'])
  if (body.connection && body.connection !== 'local_account') throw fail.invalid(`connection "${body.connection}" not found`)
  if (body.user_id) throw fail.invalid('user_id can only be given when adding a root user to a sub-domain')
  checkUserValues(emu, body)
  if (!seeded) checkPasswordPolicy(body.password)
  const now = new Date().toISOString()
  const user = {
    user_id: `local|${randomUUID()}`,
    username: body.username,
    name: body.name ?? '',
    nickname: body.nickname ?? body.username,
    email: body.email ?? '',
    created_at: now,
    updated_at: now,
    last_login: null,
    logins_count: 0,
    failed_logins_count: 0,
    account_lockout_at: null,
    failed_logins_initial_attempt_at: null,
    last_failed_login_at: null,
    password_changed_at: now,
    password_change_required: body.password_change_required ?? false,
    certificate_subject_dn: body.certificate_subject_dn ?? '',
    enable_cert_auth: body.enable_cert_auth ?? false,
    auth_domain: ROOT_DOMAIN_ID,
    auth_domain_name: 'root',
    expires_at: body.expires_at ?? null,
    login_flags: {prevent_ui_login: body.login_flags?.prevent_ui_login ?? false},
    allowed_auth_methods: body.allowed_auth_methods ?? ['password'],
    allowed_client_types: body.allowed_client_types ?? [...CLIENT_TYPES],
    user_metadata: body.user_metadata ?? {},
    app_metadata: body.app_metadata ?? {},
    password: body.password,
  }
  emu.state.users.set(user.user_id, user)
  return user
}

/** `self` names the caller (spec §3.2). */
function userRef({emu, params, principal}) {
  const user = emu.state.users.get(params.id === 'self' ? principal.userId : params.id)
  if (!user) throw fail.notFound()
  return user
}

/** The caller may always read themselves; everything else in usermgmt is for admins. */
function requireSelfOrAdmin(ctx) {
  if (ctx.params.id !== 'self' && ctx.params.id !== ctx.principal.userId) requireAdmin(ctx)
}

const splitParam = (query, name) => query.getAll(name).flatMap((v) => v.split(',')).filter((v) => v !== '')

/** Each filter applies only when its query parameter is present (spec §3.2). */
const USER_FILTERS = {
  name: (v) => (u) => wildcard(v)(u.name),
  username: (v) => (u) => wildcard(v)(u.username),
  email: (v) => (u) => wildcard(v)(u.email),
  auth_domain_name: (v) => (u) => u.auth_domain_name === v,
  allowed_auth_methods: (v) => (u) => u.allowed_auth_methods.includes(v),
  allowed_client_types: (v) => (u) => u.allowed_client_types.includes(v),
  password_policy: (v) => (u) => (u.password_policy ?? '') === v,
}

/** groups=a,b: members of every listed group; groups=nil: members of none. exclude_groups: members of none listed. */
function groupFilters(emu, query) {
  const filters = []
  const memberOf = (u) => groupsOf(emu, u.user_id)
  const wanted = splitParam(query, 'groups')
  if (wanted.length === 1 && wanted[0] === 'nil') filters.push((u) => memberOf(u).length === 0)
  else if (wanted.length > 0) filters.push((u) => wanted.every((g) => memberOf(u).includes(g)))
  const excluded = splitParam(query, 'exclude_groups')
  if (excluded.length > 0) filters.push((u) => !excluded.some((g) => memberOf(u).includes(g)))
  if (query.has('account_expired')) {
    const expired = boolParam(query, 'account_expired', false)
    filters.push((u) => (u.expires_at !== null && Date.now() >= Date.parse(u.expires_at)) === expired)
  }
  return filters
}

function listUsers(ctx) {
  requireAdmin(ctx)
  const {emu, query} = ctx
  const filters = [...Object.entries(USER_FILTERS).filter(([k]) => query.has(k)).map(([k, make]) => make(query.get(k))), ...groupFilters(emu, query)]
  const withGroups = boolParam(query, 'return_groups', false)
  const items = [...emu.state.users.values()].filter((u) => filters.every((f) => f(u))).map((u) => userView(emu, u, {withGroups}))
  const known = [...Object.keys(USER_FILTERS), 'groups', 'exclude_groups', 'account_expired', 'return_groups']
  return {body: listEnvelope(items, query, emu.options.pageDefault, known)}
}

function patchUser(ctx) {
  requireSelfOrAdmin(ctx)
  const user = userRef(ctx)
  const body = checkBody(ctx.body, USER_PATCH_FIELDS)
  checkUserValues(ctx.emu, body, user)
  if (body.password) {
    checkPasswordPolicy(body.password)
    user.password_changed_at = new Date().toISOString()
  }
  for (const [field, value] of Object.entries(body)) {
    if (value !== null) user[field] = field === 'login_flags' ? {...user.login_flags, ...value} : value
  }
  user.updated_at = new Date().toISOString()
  return {body: userView(ctx.emu, user)}
}

/** Deleting a user also drops its group memberships and refresh tokens. */
function deleteUser(ctx) {
  requireAdmin(ctx)
  const user = userRef(ctx)
  const {state} = ctx.emu
  state.users.delete(user.user_id)
  for (const group of state.groups.values()) group.members.delete(user.user_id)
  for (const [id, rt] of state.refreshTokens) if (rt.user_id === user.user_id) state.refreshTokens.delete(id)
  return {status: 204}
}

// ---- groups

export function groupView({members, builtin: _builtin, ...group}) {
  return {...group, users_count: members.size}
}

export function createGroup(emu, body, {builtin = false} = {}) {
  checkBody(body, GROUP_FIELDS, ['name'])
  if (emu.state.groups.has(body.name)) throw fail.conflict(`group ${body.name} already exists`)
  const now = new Date().toISOString()
  const group = {
    name: body.name,
    description: body.description ?? '',
    created_at: now,
    updated_at: now,
    app_metadata: body.app_metadata ?? {},
    client_metadata: body.client_metadata ?? {},
    user_metadata: body.user_metadata ?? {},
    members: new Set(),
    builtin,
  }
  emu.state.groups.set(group.name, group)
  return group
}

export function createBuiltinGroups(emu) {
  for (const name of BUILTIN_GROUPS) createGroup(emu, {name}, {builtin: true})
}

function groupRef({emu, params}) {
  const group = emu.state.groups.get(params.name)
  if (!group) throw fail.notFound()
  return group
}

function listGroups(ctx) {
  requireAdmin(ctx)
  const {emu, query} = ctx
  const filters = []
  if (query.has('name')) filters.push((g) => wildcard(query.get('name'))(g.name))
  const users = query.get('users')
  if (users === 'nil') filters.push((g) => g.members.size === 0)
  else if (users) filters.push((g) => g.members.has(users))
  // The emulator has no OAuth clients: only clients=nil (groups without clients) matches.
  if (query.has('clients') && query.get('clients') !== 'nil') filters.push(() => false)
  const items = [...emu.state.groups.values()].filter((g) => filters.every((f) => f(g))).map(groupView)
  return {body: listEnvelope(items, query, emu.options.pageDefault, ['name', 'users', 'clients'])}
}

/** Metadata PATCH merges and a key set to null deletes it ("confirmed live", TF resource_cm_group.go). */
function mergeMetadata(current, patch) {
  const merged = {...current}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete merged[k]
    else merged[k] = v
  }
  return merged
}

function patchGroup(ctx) {
  requireAdmin(ctx)
  const group = groupRef(ctx)
  const body = checkBody(ctx.body, GROUP_FIELDS)
  const {groups} = ctx.emu.state
  if (body.name !== undefined && body.name !== group.name) {
    if (body.name.trim() === '') throw fail.invalid('name is required')
    if (groups.has(body.name)) throw fail.conflict(`group ${body.name} already exists`)
    groups.delete(group.name)
    group.name = body.name
    groups.set(group.name, group)
  }
  if (typeof body.description === 'string') group.description = body.description
  for (const field of ['app_metadata', 'client_metadata', 'user_metadata']) {
    if (isPlainObject(body[field])) group[field] = mergeMetadata(group[field], body[field])
  }
  group.updated_at = new Date().toISOString()
  return {body: groupView(group)}
}

/** Built-in groups cannot be deleted (INFERRED: status and text UNKNOWN). */
function deleteGroup(ctx) {
  requireAdmin(ctx)
  const group = groupRef(ctx)
  // `force` also deletes the group's group maps; the emulator has none, so it is only validated.
  boolParam(ctx.query, 'force', false)
  if (group.builtin) throw fail.forbidden(`group ${group.name} is a system group and cannot be deleted`)
  ctx.emu.state.groups.delete(group.name)
  return {status: 204}
}

function memberRef(ctx) {
  requireAdmin(ctx)
  const group = groupRef(ctx)
  const user = ctx.emu.state.users.get(ctx.params.userId)
  if (!user) throw fail.notFound()
  return {group, user}
}

/** Adding a member answers the group with its new users_count (XSOAR mock); adding twice is harmless (INFERRED). */
function addMember(ctx) {
  const {group, user} = memberRef(ctx)
  if (ctx.body !== undefined) checkBody(ctx.body, {})
  group.members.add(user.user_id)
  return {body: groupView(group)}
}

/** Removing a non-member is a 400 whose message says "not a member" (TF, citing the swagger). */
function removeMember(ctx) {
  const {group, user} = memberRef(ctx)
  if (!group.members.delete(user.user_id)) throw fail.badRequest(`user ${user.user_id} is not a member of group ${group.name}`)
  return {status: 204}
}

export const usermgmtRoutes = [
  {
    method: 'POST',
    path: '/api/v1/usermgmt/users',
    body: 'json',
    create: 'conflict',
    handler: (ctx) => {
      requireAdmin(ctx)
      return {status: 201, body: userView(ctx.emu, createUser(ctx.emu, ctx.body))}
    },
  },
  {method: 'GET', path: '/api/v1/usermgmt/users', handler: listUsers},
  {
    method: 'GET',
    path: '/api/v1/usermgmt/users/:id',
    handler: (ctx) => {
      requireSelfOrAdmin(ctx)
      return {body: userView(ctx.emu, userRef(ctx))}
    },
  },
  {method: 'PATCH', path: '/api/v1/usermgmt/users/:id', body: 'json', handler: patchUser},
  {method: 'DELETE', path: '/api/v1/usermgmt/users/:id', handler: deleteUser},
  {
    method: 'POST',
    path: '/api/v1/usermgmt/groups',
    body: 'json',
    create: 'conflict',
    handler: (ctx) => {
      requireAdmin(ctx)
      return {status: 201, body: groupView(createGroup(ctx.emu, ctx.body))}
    },
  },
  {method: 'GET', path: '/api/v1/usermgmt/groups', handler: listGroups},
  {
    method: 'GET',
    path: '/api/v1/usermgmt/groups/:name',
    handler: (ctx) => {
      requireAdmin(ctx)
      return {body: groupView(groupRef(ctx))}
    },
  },
  {method: 'PATCH', path: '/api/v1/usermgmt/groups/:name', body: 'json', handler: patchGroup},
  {method: 'DELETE', path: '/api/v1/usermgmt/groups/:name', handler: deleteGroup},
  {method: 'POST', path: '/api/v1/usermgmt/groups/:name/users/:userId', body: 'optionalJson', handler: addMember},
  {method: 'DELETE', path: '/api/v1/usermgmt/groups/:name/users/:userId', handler: removeMember},
]
