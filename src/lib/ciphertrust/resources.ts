import {isTrustctlError} from '../core/errors.js'
import type {CtmClient} from './client.js'
import {CtmError} from './errors.js'

export type EnsureStatus = 'created' | 'unchanged'
export interface Ensured<T> {
  status: EnsureStatus
  object: T
}

const seg = (s: string) => encodeURIComponent(s)

/**
 * Create, or with ifNotExists report the existing object as unchanged: a 409 makes us look the
 * object up by its name (CM has no "create if absent" for these resources).
 */
async function ensure<T>(create: () => Promise<T>, find: () => Promise<T | undefined>, ifNotExists: boolean | undefined): Promise<Ensured<T>> {
  try {
    return {status: 'created', object: await create()}
  } catch (err) {
    if (!ifNotExists || !isTrustctlError(err) || err.code !== 'CONFLICT') throw err
    const existing = await find()
    if (!existing) throw err
    return {status: 'unchanged', object: existing}
  }
}

// ---- groups

export interface Group {
  name: string
  description?: string
  users_count?: number
  created_at?: string
}

export const groups = {
  create: (c: CtmClient, name: string, opts: {description?: string; ifNotExists?: boolean} = {}) =>
    ensure(
      () => c.post<Group>('/api/v1/usermgmt/groups', `create group ${name}`, {json: {name, ...(opts.description ? {description: opts.description} : {})}}),
      () => c.get<Group>(`/api/v1/usermgmt/groups/${seg(name)}`, `group ${name}`),
      opts.ifNotExists,
    ),
  list: (c: CtmClient) => c.list<Group>('/api/v1/usermgmt/groups', 'list groups'),
  get: (c: CtmClient, name: string) => c.get<Group>(`/api/v1/usermgmt/groups/${seg(name)}`, `group ${name}`),
  delete: (c: CtmClient, name: string) => c.delete(`/api/v1/usermgmt/groups/${seg(name)}`, `delete group ${name}`),
  addUser: (c: CtmClient, name: string, userId: string) => c.post<Group>(`/api/v1/usermgmt/groups/${seg(name)}/users/${seg(userId)}`, `add ${userId} to group ${name}`),
  removeUser: (c: CtmClient, name: string, userId: string) => c.delete(`/api/v1/usermgmt/groups/${seg(name)}/users/${seg(userId)}`, `remove ${userId} from group ${name}`),
}

// ---- users

export interface User {
  user_id: string
  username: string
  email?: string
  name?: string
  created_at?: string
  groups?: string[]
}

export const users = {
  create: (c: CtmClient, u: {username: string; password: string; email?: string; name?: string}, opts: {ifNotExists?: boolean} = {}) =>
    ensure(
      () => c.post<User>('/api/v1/usermgmt/users', `create user ${u.username}`, {json: {username: u.username, password: u.password, ...(u.email ? {email: u.email} : {}), ...(u.name ? {name: u.name} : {})}}),
      async () => (await c.list<User>('/api/v1/usermgmt/users', `find user ${u.username}`, {username: u.username})).find((x) => x.username === u.username),
      opts.ifNotExists,
    ),
  list: (c: CtmClient, opts: {group?: string} = {}) => c.list<User>('/api/v1/usermgmt/users', 'list users', opts.group ? {groups: opts.group} : {}),
  get: (c: CtmClient, userId: string) => c.get<User>(`/api/v1/usermgmt/users/${seg(userId)}`, `user ${userId}`),
  delete: (c: CtmClient, userId: string) => c.delete(`/api/v1/usermgmt/users/${seg(userId)}`, `delete user ${userId}`),
}

// ---- policies and attachments

export interface Policy {
  id: string
  name: string
  actions?: string[]
  resources?: string[]
  allow?: boolean
  createdAt?: string
}

export interface PolicyAttachment {
  id: string
  policy: string
  principalSelector: unknown
  createdAt?: string
}

async function policyByName(c: CtmClient, name: string): Promise<Policy | undefined> {
  return (await c.list<Policy>('/api/v1/admin/policies', 'list policies')).find((p) => p.name === name)
}

export const policies = {
  create: (c: CtmClient, body: Record<string, unknown>, opts: {ifNotExists?: boolean} = {}) =>
    ensure(
      () => c.post<Policy>('/api/v1/admin/policies', `create policy ${String(body.name)}`, {json: body}),
      () => policyByName(c, String(body.name)),
      opts.ifNotExists,
    ),
  list: (c: CtmClient) => c.list<Policy>('/api/v1/admin/policies', 'list policies'),
  /** By id, or by name when no policy has that id. */
  get: async (c: CtmClient, ref: {id?: string; name?: string}): Promise<Policy> => {
    if (ref.id) return c.get<Policy>(`/api/v1/admin/policies/${seg(ref.id)}`, `policy ${ref.id}`)
    const p = await policyByName(c, ref.name as string)
    if (!p) throw new CtmError('NOT_FOUND', `policy ${ref.name}: not found`)
    return p
  },
  delete: async (c: CtmClient, ref: {id?: string; name?: string}) => {
    const id = ref.id ?? (await policies.get(c, ref)).id
    await c.delete(`/api/v1/admin/policies/${seg(id)}`, `delete policy ${ref.id ?? ref.name}`)
    return id
  },
}

export const attachments = {
  /** Attachments have no name: with ifNotExists, one with the same policy and selector counts as existing. */
  create: async (c: CtmClient, policy: string, principalSelector: unknown, opts: {ifNotExists?: boolean} = {}): Promise<Ensured<PolicyAttachment>> => {
    if (opts.ifNotExists) {
      const p = await policies.get(c, {name: policy}).catch(() => undefined)
      const same = (await attachments.list(c)).find(
        (a) => (a.policy === policy || (p && a.policy === p.id)) && JSON.stringify(a.principalSelector) === JSON.stringify(principalSelector),
      )
      if (same) return {status: 'unchanged', object: same}
    }
    return {status: 'created', object: await c.post<PolicyAttachment>('/api/v1/admin/policy-attachments', `attach policy ${policy}`, {json: {policy, principalSelector}})}
  },
  list: (c: CtmClient) => c.list<PolicyAttachment>('/api/v1/admin/policy-attachments', 'list policy attachments'),
  delete: (c: CtmClient, id: string) => c.delete(`/api/v1/admin/policy-attachments/${seg(id)}`, `delete policy attachment ${id}`),
}
