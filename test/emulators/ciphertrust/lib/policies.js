// /api/v1/admin/policies and /api/v1/admin/policy-attachments (spec §5), and the access checks
// the vault endpoints make with them. Vault objects are camelCase.
import {randomUUID} from 'node:crypto'

import {fail} from './errors.js'
import {checkBody, checkEnum, isPlainObject, listEnvelope, wildcard} from './validate.js'

export const ACCOUNT = 'kylo:kylo:admin:accounts:kylo'

const POLICY_FIELDS = {
  name: 'string',
  actions: 'strings',
  resources: 'strings',
  allow: 'boolean',
  effect: 'string',
  conditions: 'array',
  include_descendant_accounts: 'boolean',
}
const CONDITION_FIELDS = {path: 'string', op: 'string', values: 'array', negate: 'boolean'}
const ATTACHMENT_FIELDS = {policy: 'string', principalSelector: 'object', jurisdiction: 'string'}

/** usermgmt and admin endpoints are for members of the admin group. */
export function requireAdmin({principal}) {
  if (!principal.isAdmin) throw fail.forbidden('the caller is not an administrator')
}

// ---- evaluation

/** What a principal selector is matched against: the caller's token claims (spec §5.3, §11). */
const subjectOf = (principal) => ({acct: 'kylo', user: principal.username, cust: {domain: 'root', groups: principal.groups}})

/** Every selector key must match; a list matches when the subject has any of its values (INFERRED). */
function selectorMatches(selector, subject) {
  return Object.entries(selector).every(([key, want]) => {
    const have = subject?.[key]
    if (Array.isArray(want)) return Array.isArray(have) && want.some((w) => have.includes(w))
    if (isPlainObject(want)) return isPlainObject(have) && selectorMatches(want, have)
    return want === have
  })
}

/** Conditions like {path: "context.resource.alg", op: "equals", values: [...]}; only "equals" is understood. */
function conditionHolds(condition, context) {
  const value = condition.path.split('.').slice(1).reduce((obj, key) => obj?.[key], context)
  const holds = condition.op === 'equals' && condition.values.map(String).includes(String(value))
  return condition.negate ? !holds : holds
}

/** Resource patterns are globs on the lower-case URI, matched case-sensitively (`KEK-*` never matches: spec §10.4). */
function policyCovers(policy, action, resource) {
  return (
    policy.actions.some((a) => a === action || a === '*') &&
    policy.resources.some((pattern) => wildcard(pattern)(resource.uri)) &&
    policy.conditions.every((c) => conditionHolds(c, {resource: resource.attributes}))
  )
}

/** A deny that applies wins over any allow; without an applicable allow the answer is no. */
export function permits(emu, principal, action, resource) {
  if (principal.isAdmin) return true
  let allowed = false
  const subject = subjectOf(principal)
  for (const attachment of emu.state.attachments.values()) {
    const policy = emu.state.policies.get(attachment.policy)
    if (!policy || !selectorMatches(attachment.principalSelector, subject) || !policyCovers(policy, action, resource)) continue
    if (!policy.allow) return false
    allowed = true
  }
  return allowed
}

/**
 * Demands every action on a resource. CM answers 404 for objects the caller may not see at all
 * (spec §1.5, KES, KRX) and 403 when it sees them but lacks an action (KRX: UseKey).
 */
export function requireAccess({emu, principal}, actions, resource, {exists = true} = {}) {
  const granted = actions.filter((a) => permits(emu, principal, a, resource))
  if (granted.length === actions.length) return
  const sees = granted.length > 0 || permits(emu, principal, 'ReadKey', resource)
  if (exists && !sees) throw fail.notFound()
  throw fail.forbidden(`the caller may not ${actions.filter((a) => !granted.includes(a)).join(', ')} on ${resource.uri}`)
}

// ---- policies

function checkPolicy(body) {
  checkBody(body, POLICY_FIELDS, ['name'])
  if (!body.actions || body.actions.length === 0) throw fail.invalid('actions is required')
  for (const action of body.actions) if (!/^(\*|[A-Z][A-Za-z]+)$/.test(action)) throw fail.invalid(`invalid action "${action}"`)
  for (const condition of body.conditions ?? []) checkBody(condition, CONDITION_FIELDS, ['path', 'op'])
  if (body.effect !== undefined && body.effect !== null) checkEnum('effect', body.effect, ['allow', 'deny'])
  if (typeof body.effect === 'string' && typeof body.allow === 'boolean' && (body.effect === 'allow') !== body.allow) {
    throw fail.invalid('allow and effect disagree')
  }
}

/** allow defaults to false when neither allow nor effect is given (UNKNOWN; every sample sends allow: true). */
function createPolicy({emu, body}) {
  checkPolicy(body)
  if ([...emu.state.policies.values()].some((p) => p.name === body.name)) throw fail.conflict(`policy ${body.name} already exists`)
  const allow = typeof body.effect === 'string' ? body.effect === 'allow' : body.allow === true
  const now = new Date().toISOString()
  const policy = {
    id: randomUUID(),
    uri: `kylo:kylo:admin:policies:${body.name.toLowerCase()}`,
    account: ACCOUNT,
    createdAt: now,
    updatedAt: now,
    name: body.name,
    actions: body.actions,
    resources: body.resources ?? [],
    allow,
    effect: allow ? 'allow' : 'deny',
    conditions: (body.conditions ?? []).map((c) => ({...c, values: c.values ?? []})),
    include_descendant_accounts: body.include_descendant_accounts ?? false,
  }
  emu.state.policies.set(policy.id, policy)
  return {status: 201, body: policy}
}

function policyRef({emu, params}) {
  const policy = emu.state.policies.get(params.id)
  if (!policy) throw fail.notFound()
  return policy
}

/** Deleting a policy that is still attached is refused (UNKNOWN; ksctl scripts delete attachments first). */
function deletePolicy(ctx) {
  const policy = policyRef(ctx)
  if ([...ctx.emu.state.attachments.values()].some((a) => a.policy === policy.id)) throw fail.conflict(`policy ${policy.name} is attached; delete its attachments first`)
  ctx.emu.state.policies.delete(policy.id)
  return {status: 204}
}

// ---- attachments

/** `policy` may be the policy's id or its name (TF's test passes a name: spec §5.3); the id is stored and echoed. */
function createAttachment({emu, body}) {
  checkBody(body, ATTACHMENT_FIELDS, ['policy', 'principalSelector'])
  if (Object.keys(body.principalSelector).length === 0) throw fail.invalid('principalSelector must not be empty')
  const policy = emu.state.policies.get(body.policy) ?? [...emu.state.policies.values()].find((p) => p.name === body.policy)
  if (!policy) throw fail.notFound(`policy ${body.policy} not found`)
  const now = new Date().toISOString()
  const id = randomUUID()
  const attachment = {
    id,
    uri: `kylo:kylo:admin:policy-attachments:${id}`,
    account: ACCOUNT,
    createdAt: now,
    updatedAt: now,
    policy: policy.id,
    principalSelector: body.principalSelector,
    ...(body.jurisdiction ? {jurisdiction: body.jurisdiction} : {}),
  }
  emu.state.attachments.set(id, attachment)
  return {status: 201, body: attachment}
}

function attachmentRef({emu, params}) {
  const attachment = emu.state.attachments.get(params.id)
  if (!attachment) throw fail.notFound()
  return attachment
}

/** Every admin route first requires the caller to be an administrator. */
const adminOnly = (handler) => (ctx) => {
  requireAdmin(ctx)
  return handler(ctx)
}

const listOf = (map, knownParams, filter) => (ctx) => {
  const items = [...map(ctx).values()].filter((x) => filter(x, ctx.query))
  return {body: listEnvelope(items, ctx.query, ctx.emu.options.pageDefault, knownParams)}
}

// Policies and attachments cannot be updated: there is no PATCH for attachments (TF) and none is
// evidenced for policies (spec §5.1), so those requests are 405s.
export const policyRoutes = [
  {method: 'POST', path: '/api/v1/admin/policies', body: 'json', create: 'conflict', handler: adminOnly(createPolicy)},
  {
    method: 'GET',
    path: '/api/v1/admin/policies',
    handler: adminOnly(listOf((ctx) => ctx.emu.state.policies, ['name'], (p, q) => !q.has('name') || wildcard(q.get('name'))(p.name))),
  },
  {method: 'GET', path: '/api/v1/admin/policies/:id', handler: adminOnly((ctx) => ({body: policyRef(ctx)}))},
  {method: 'DELETE', path: '/api/v1/admin/policies/:id', handler: adminOnly(deletePolicy)},
  {method: 'POST', path: '/api/v1/admin/policy-attachments', body: 'json', create: 'conflict', handler: adminOnly(createAttachment)},
  {
    method: 'GET',
    path: '/api/v1/admin/policy-attachments',
    handler: adminOnly(listOf((ctx) => ctx.emu.state.attachments, ['policy'], (a, q) => !q.has('policy') || a.policy === q.get('policy'))),
  },
  {method: 'GET', path: '/api/v1/admin/policy-attachments/:id', handler: adminOnly((ctx) => ({body: attachmentRef(ctx)}))},
  {
    method: 'DELETE',
    path: '/api/v1/admin/policy-attachments/:id',
    handler: adminOnly((ctx) => {
      ctx.emu.state.attachments.delete(attachmentRef(ctx).id)
      return {status: 204}
    }),
  },
]
