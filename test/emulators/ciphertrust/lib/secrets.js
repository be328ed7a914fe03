// /api/v1/vault/secrets (spec §8), as KES uses it: create 201 / 409, export by name, delete 204,
// paged list. Fields beyond name, dataType and material mirror keys (INFERRED).
import {createHash, randomBytes} from 'node:crypto'

import {fail} from './errors.js'
import {ACCOUNT, permits, requireAccess} from './policies.js'
import {checkBody, checkEnum, checkLabels, intParam, labelSelector, listEnvelope, wildcard} from './validate.js'

const SECRET_FIELDS = {
  name: 'string',
  dataType: 'string',
  material: 'string',
  labels: 'labels',
  meta: 'object',
  unexportable: 'boolean',
  undeletable: 'boolean',
  description: 'string',
}
const DATA_TYPES = ['blob', 'password', 'seed']

const secretUri = (name) => `kylo:kylo:vault:secrets:${name.toLowerCase()}`
const secretResource = (rec) => ({uri: rec.uri, attributes: {name: rec.name, objectType: rec.objectType}})
const secretView = ({material: _secret, ...view}) => view

function findByName(emu, name) {
  for (const rec of emu.state.secrets.values()) if (rec.name === name) return rec
  return undefined
}

/**
 * Material is stored as given: ksctl documents hex for seeds, but KES sends a raw string with
 * dataType seed, so it is not validated (spec §8). Whether CM generates material when none is
 * given is UNKNOWN; the emulator requires it.
 */
function createSecret(ctx) {
  const {emu, body} = ctx
  checkBody(body, SECRET_FIELDS, ['name', 'material'])
  checkEnum('dataType', body.dataType ?? 'blob', DATA_TYPES)
  if (body.labels) checkLabels(body.labels)
  requireAccess(ctx, ['CreateKey'], {uri: secretUri(body.name), attributes: {name: body.name}}, {exists: false})
  if (findByName(emu, body.name)) throw fail.conflict(`secret with name ${body.name} already exists`)
  const now = new Date().toISOString()
  const rec = {
    id: randomBytes(32).toString('hex'),
    uri: secretUri(body.name),
    account: ACCOUNT,
    createdAt: now,
    updatedAt: now,
    name: body.name,
    version: 0,
    dataType: body.dataType ?? 'blob',
    objectType: 'Secret Data',
    state: 'Active',
    labels: body.labels ?? {},
    meta: body.meta ?? null,
    unexportable: body.unexportable ?? false,
    undeletable: body.undeletable ?? false,
    sha1Fingerprint: createHash('sha1').update(body.material).digest('hex'),
    sha256Fingerprint: createHash('sha256').update(body.material).digest('hex'),
    ...(body.description ? {description: body.description} : {}),
    material: body.material,
  }
  emu.state.secrets.set(rec.id, rec)
  return {status: 201, body: secretView(rec)}
}

/** {id} is an id or, with ?type=name (what KES sends), a name. */
function secretRef(ctx, actions) {
  const {emu, params, query} = ctx
  const type = query.get('type') ?? (emu.state.secrets.has(params.id) ? 'id' : 'name')
  if (type !== 'id' && type !== 'name') throw fail.badRequest(`invalid value for query parameter type: ${type}`)
  const rec = type === 'id' ? emu.state.secrets.get(params.id) : findByName(emu, params.id)
  if (!rec) throw fail.notFound()
  requireAccess(ctx, actions, secretResource(rec))
  return rec
}

const SECRET_FILTERS = {
  name: (v) => (s) => wildcard(v)(s.name),
  id: (v) => (s) => s.id === v,
  objectType: (v) => (s) => s.objectType === v,
  dataType: (v) => (s) => s.dataType === v,
  version: (v) => (s) => s.version === Number(v),
  sha1Fingerprint: (v) => (s) => wildcard(v)(s.sha1Fingerprint),
  sha256Fingerprint: (v) => (s) => wildcard(v)(s.sha256Fingerprint),
  labels: (v) => {
    const matches = labelSelector(v)
    return (s) => matches(s.labels)
  },
}

function listSecrets(ctx) {
  const {emu, query} = ctx
  // A malformed version is a 400, not a filter that matches nothing.
  intParam(query, 'version', 0)
  const filters = Object.entries(SECRET_FILTERS).filter(([p]) => query.has(p)).map(([p, make]) => make(query.get(p)))
  const items = [...emu.state.secrets.values()].filter((s) => filters.every((f) => f(s)) && permits(emu, ctx.principal, 'ReadKey', secretResource(s))).map(secretView)
  return {body: listEnvelope(items, query, emu.options.pageDefault, Object.keys(SECRET_FILTERS))}
}

/** KES posts no body; export options are not modelled, so any field is refused. */
function exportSecret(ctx) {
  if (ctx.body !== undefined) checkBody(ctx.body, {})
  const rec = secretRef(ctx, ['ExportKey'])
  if (rec.unexportable) throw fail.invalid('secret is unexportable')
  return {body: {...secretView(rec), material: rec.material}}
}

function deleteSecret(ctx) {
  const rec = secretRef(ctx, ['DeleteKey'])
  if (rec.undeletable) throw fail.invalid('secret is undeletable')
  ctx.emu.state.secrets.delete(rec.id)
  return {status: 204}
}

export const secretRoutes = [
  {method: 'POST', path: '/api/v1/vault/secrets', body: 'json', create: 'conflict', handler: createSecret},
  {method: 'GET', path: '/api/v1/vault/secrets', handler: listSecrets},
  {method: 'GET', path: '/api/v1/vault/secrets/:id', handler: (ctx) => ({body: secretView(secretRef(ctx, ['ReadKey']))})},
  {method: 'POST', path: '/api/v1/vault/secrets/:id/export', body: 'optionalJson', handler: exportSecret},
  {method: 'DELETE', path: '/api/v1/vault/secrets/:id', handler: deleteSecret},
]
