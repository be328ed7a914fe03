// /api/v1/vault/keys2 (spec §6): versioned keys with real material (node:crypto), labels, aliases,
// lifecycle states and the list filters clients use. Each version is its own object with its own
// id; `keyNames` indexes the versions of a name so that name lookups stay fast with 10,000+ keys.
import {createHash, createPrivateKey, createPublicKey, generateKeyPairSync, getCurves, randomBytes, randomUUID} from 'node:crypto'

import {fail} from './errors.js'
import {ACCOUNT, permits, requireAccess} from './policies.js'
import {boolParam, checkBody, checkEnum, checkLabels, intParam, isPlainObject, labelSelector, listEnvelope, wildcard} from './validate.js'

const ALGORITHMS = ['aes', 'tdes', 'rsa', 'ec', 'hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512', 'seed', 'aria', 'opaque']
const CURVES = [
  'secp224k1', 'secp224r1', 'secp256k1', 'secp384r1', 'secp521r1', 'prime256v1',
  'brainpoolP224r1', 'brainpoolP224t1', 'brainpoolP256r1', 'brainpoolP256t1',
  'brainpoolP384r1', 'brainpoolP384t1', 'brainpoolP512r1', 'brainpoolP512t1', 'curve25519',
]
const CURVE_BITS = {prime256v1: 256, curve25519: 255}

/** Sizes in bits; the first is the default. hmac and opaque keys take any whole number of bytes. */
const SIZES = {
  aes: [256, 128, 192],
  tdes: [192],
  seed: [128],
  aria: [256, 128, 192],
  rsa: [2048, 1024, 3072, 4096],
  'hmac-sha1': [160],
  'hmac-sha256': [256],
  'hmac-sha384': [384],
  'hmac-sha512': [512],
  opaque: [256],
}

/** KMIP usage bits (spec §6.1); the defaults per algorithm are UNKNOWN: sign|verify for EC, sign|verify|encrypt|decrypt for RSA, MAC for HMAC, encrypt|decrypt otherwise. */
const USAGE = {sign: 1, verify: 2, all: 4194303}
const defaultUsageMask = (alg) => ({ec: 3, rsa: 15, opaque: 0}[alg] ?? (alg.startsWith('hmac') ? 384 : 12))

const OBJECT_TYPES = ['Symmetric Key', 'Public Key', 'Private Key', 'Secret Data', 'Opaque Object', 'Certificate']
const objectTypeOf = (alg) => (alg === 'rsa' || alg === 'ec' ? 'Private Key' : alg === 'opaque' ? 'Opaque Object' : 'Symmetric Key')

const DATE_FIELDS = ['activationDate', 'deactivationDate', 'archiveDate', 'processStartDate', 'protectStopDate', 'rotationDate', 'destroyDate', 'compromiseDate']

const KEY_FIELDS = {
  name: 'string',
  algorithm: 'string',
  size: 'integer',
  curveid: 'string',
  usageMask: 'integer',
  labels: 'labels',
  aliases: 'array',
  meta: 'object',
  ...Object.fromEntries(DATE_FIELDS.map((f) => [f, 'date'])),
  rotationFrequencyDays: 'string',
  state: 'string',
  unexportable: 'boolean',
  undeletable: 'boolean',
  emptyMaterial: 'boolean',
  xts: 'boolean',
  generateKeyId: 'boolean',
  material: 'string',
  format: 'string',
  encoding: 'string',
  objectType: 'string',
  publicKeyParameters: 'object',
  description: 'string',
  idSize: 'integer',
  uuid: 'string',
  muid: 'string',
  keyId: 'string',
  templateId: 'string',
  defaultIV: 'string',
}

/** Documented fields whose behaviour the emulator does not model: refused rather than silently ignored. */
const UNSUPPORTED_FIELDS = ['publicKeyParameters', 'templateId', 'xts', 'idSize', 'offset', 'certType']

const PATCH_FIELDS = {
  labels: 'labelsPatch',
  aliases: 'array',
  meta: 'object',
  unexportable: 'boolean',
  undeletable: 'boolean',
  activationDate: 'date',
  deactivationDate: 'date',
  processStartDate: 'date',
  protectStopDate: 'date',
  rotationDate: 'date',
  rotationFrequencyDays: 'string',
  muid: 'string',
  keyId: 'string',
  usageMask: 'integer',
  allVersions: 'boolean',
}

const VERSION_FIELDS = {
  aliases: 'array',
  labels: 'labels',
  material: 'string',
  format: 'string',
  encoding: 'string',
  offset: 'integer',
  idSize: 'integer',
  uuid: 'string',
  muid: 'string',
  keyId: 'string',
  defaultIV: 'string',
  certType: 'string',
}

const REVOKE_REASONS = ['Unspecified', 'KeyCompromise', 'CACompromise', 'AffiliationChanged', 'Superseded', 'CessationOfOperation', 'PrivilegeWithdrawn']
const REACTIVATE_REASONS = ['DeactivatedToActive', 'DeactivatedToActiveProtectStop', 'ActiveProtectStopToActive']

const hex = (n) => randomBytes(n).toString('hex')
const nowIso = () => new Date().toISOString()

/**
 * The policy resource URI: the lower-cased name (CONFIRMED, KRX). Whether versions add a suffix is
 * UNKNOWN; all versions share the URI here.
 */
export const keyUri = (name) => `kylo:kylo:vault:keys:${name.toLowerCase()}`

/** What access checks and policy conditions see of a key. */
export const keyResource = (rec) => ({uri: rec.uri, attributes: {alg: rec.algorithm.toLowerCase(), name: rec.name, objectType: rec.objectType}})

// ---- material

function curveOf(body) {
  const curveid = body.curveid ?? 'prime256v1'
  checkEnum('curveid', curveid, CURVES)
  if (curveid !== 'curve25519' && !getCurves().includes(curveid)) throw fail.invalid(`curve ${curveid} is not supported by the emulator`)
  return curveid
}

// Generated encoded and re-imported: Node 20 can deadlock when a key object still shared with its
// (garbage) key-generation job is exported (as the signing path does, to JWK) while GC finalises that job.
function freshPrivateKey(type, options) {
  const {privateKey} = generateKeyPairSync(type, {...options, privateKeyEncoding: {type: 'pkcs8', format: 'der'}, publicKeyEncoding: {type: 'spki', format: 'der'}})
  return createPrivateKey({key: privateKey, format: 'der', type: 'pkcs8'})
}

function generateMaterial(alg, size, curveid) {
  if (alg === 'rsa') return {privateKey: freshPrivateKey('rsa', {modulusLength: size})}
  if (alg === 'ec' && curveid === 'curve25519') return {privateKey: freshPrivateKey('x25519', {})}
  if (alg === 'ec') return {privateKey: freshPrivateKey('ec', {namedCurve: curveid})}
  return {secret: randomBytes(size / 8)}
}

/** Imported material: PEM (PKCS#1, PKCS#8 or SEC1) for rsa/ec, hex for the rest (spec §6.1). */
function importMaterial(alg, material) {
  if (alg !== 'rsa' && alg !== 'ec') {
    if (!/^([0-9a-fA-F]{2})+$/.test(material)) throw fail.invalid('material must be hex-encoded')
    return {secret: Buffer.from(material, 'hex')}
  }
  let privateKey
  try {
    privateKey = createPrivateKey(material)
  } catch {
    throw fail.invalid('material is not a PEM private key')
  }
  if (privateKey.asymmetricKeyType !== alg) throw fail.invalid(`material is not an ${alg} key`)
  return {privateKey}
}

/** Algorithm, size, curve and material of a new key, generated or imported; sizes are checked per algorithm. */
function keyMaterial(alg, body) {
  const material = body.material ? importMaterial(alg, body.material) : undefined
  if (alg === 'ec') {
    const curveid = material ? material.privateKey.asymmetricKeyDetails.namedCurve : curveOf(body)
    if (!CURVES.includes(curveid)) throw fail.invalid(`curve ${curveid} is not supported`)
    const size = CURVE_BITS[curveid] ?? Number(/(\d{3})/.exec(curveid)[1])
    return {size, curveid, material: body.emptyMaterial ? undefined : (material ?? generateMaterial(alg, size, curveid))}
  }
  const size = material?.privateKey?.asymmetricKeyDetails.modulusLength ?? (material?.secret ? material.secret.length * 8 : (body.size ?? SIZES[alg][0]))
  const anyBytes = alg.startsWith('hmac') || alg === 'opaque'
  if (anyBytes ? size <= 0 || size % 8 !== 0 : !SIZES[alg].includes(size)) throw fail.invalid(`size ${size} is not valid for ${alg}`)
  return {size, material: body.emptyMaterial ? undefined : (material ?? generateMaterial(alg, size))}
}

/** Fingerprints over the key bytes, or over the SubjectPublicKeyInfo for asymmetric keys (INFERRED). */
function fingerprints(material) {
  if (!material) return {}
  const bytes = material.secret ?? createPublicKey(material.privateKey).export({type: 'spki', format: 'der'})
  return {sha1Fingerprint: createHash('sha1').update(bytes).digest('hex'), sha256Fingerprint: createHash('sha256').update(bytes).digest('hex')}
}

function publicKeyPem(material) {
  return material?.privateKey ? createPublicKey(material.privateKey).export({type: 'spki', format: 'pem'}) : undefined
}

/** includeMaterial: hex for secret bytes, PKCS#8 PEM for private keys (INFERRED encodings). */
function exportMaterial(rec) {
  if (rec.unexportable) throw fail.invalid('key is unexportable')
  const m = rec.material
  return m?.secret ? m.secret.toString('hex') : m?.privateKey.export({type: 'pkcs8', format: 'pem'})
}

// ---- records

/** Aliases get server-assigned indexes (spec §6.1). */
function withAliases(current, entries) {
  const aliases = [...current]
  for (const entry of entries) {
    if (!isPlainObject(entry)) throw fail.badRequest('json: aliases must be objects')
    checkBody(entry, {alias: 'string', type: 'string', index: 'integer'})
    // An entry with only an index removes that alias: SPIRE's "delete alias" PATCH (spec §6.5, INFERRED).
    if (entry.alias === undefined) {
      const at = aliases.findIndex((a) => a.index === entry.index)
      if (at < 0) throw fail.invalid(`no alias with index ${entry.index}`)
      aliases.splice(at, 1)
      continue
    }
    if (entry.type !== undefined) checkEnum('aliases.type', entry.type, ['string', 'uri'])
    const index = aliases.reduce((max, a) => Math.max(max, a.index + 1), 0)
    aliases.push({alias: entry.alias, type: entry.type ?? 'string', index})
  }
  return aliases
}

/** Pre-Active keys become Active at their activationDate and Active ones Deactivated at their deactivationDate. */
function refreshState(rec, now = Date.now()) {
  if (rec.state === 'Pre-Active' && rec.activationDate && Date.parse(rec.activationDate) <= now) rec.state = 'Active'
  if (rec.state === 'Active' && rec.deactivationDate && Date.parse(rec.deactivationDate) <= now) rec.state = 'Deactivated'
  return rec
}

/** Initial state: Active unless the body asks for Pre-Active or the activation date lies ahead (spec §6.1). */
function initialState(body, now) {
  if (body.state !== undefined) checkEnum('state', body.state, ['Pre-Active', 'Active'])
  const future = body.activationDate && Date.parse(body.activationDate) > now
  return body.state ?? (future ? 'Pre-Active' : 'Active')
}

/** Spreads {field: value} only when value is set, so absent optional fields stay absent. */
const optional = (field, value) => (value === undefined || value === null ? {} : {[field]: value})

/** A new key object; `base` is the previous version whose attributes a new version inherits. */
function newRecord({name, version, alg, size, curveid, material, body, base}) {
  const now = Date.now()
  const created = new Date(now).toISOString()
  const state = initialState(body, now)
  const inherit = (field, fallback) => body[field] ?? base?.[field] ?? fallback
  const publickey = publicKeyPem(material)
  const rec = {
    id: hex(32),
    uri: keyUri(name),
    account: ACCOUNT,
    application: 'ncryptify:gemalto:admin:apps:kylo',
    devAccount: 'ncryptify:gemalto:admin:accounts:gemalto',
    createdAt: created,
    updatedAt: created,
    name,
    version,
    algorithm: alg.toUpperCase(),
    size,
    ...optional('curveid', curveid),
    usageMask: inherit('usageMask', defaultUsageMask(alg)),
    meta: inherit('meta', null),
    objectType: objectTypeOf(alg),
    state,
    ...optional('activationDate', state === 'Active' ? created : undefined),
    ...Object.fromEntries(DATE_FIELDS.filter((f) => body[f]).map((f) => [f, body[f]])),
    ...optional('publickey', publickey),
    ...fingerprints(material),
    unexportable: inherit('unexportable', false),
    undeletable: inherit('undeletable', false),
    neverExported: true,
    neverExportable: inherit('unexportable', false),
    emptyMaterial: !material,
    aliases: withAliases([], body.aliases ?? []),
    labels: {...base?.labels, ...body.labels},
    links: [],
    uuid: body.uuid ?? randomUUID(),
    muid: body.muid ?? hex(32),
    ...optional('keyId', body.keyId ?? (body.generateKeyId ? hex(16) : undefined)),
    ...optional('defaultIV', body.defaultIV),
    ...optional('description', inherit('description')),
    ...optional('rotationFrequencyDays', inherit('rotationFrequencyDays')),
    material,
  }
  return refreshState(rec, now)
}

/** The highest version among key objects of one name. */
const latest = (recs) => recs.reduce((best, k) => (!best || k.version > best.version ? k : best), undefined)

export const keyView = ({material: _secret, ...view}) => view

function storeKey(emu, rec) {
  emu.state.keys.set(rec.id, rec)
  const versions = emu.state.keyNames.get(rec.name) ?? []
  versions.push(rec)
  emu.state.keyNames.set(rec.name, versions)
}

function dropKey(emu, rec) {
  emu.state.keys.delete(rec.id)
  const versions = emu.state.keyNames.get(rec.name).filter((v) => v !== rec)
  if (versions.length > 0) emu.state.keyNames.set(rec.name, versions)
  else emu.state.keyNames.delete(rec.name)
}

function checkCreateBody(body) {
  checkBody(body, KEY_FIELDS, ['name'])
  for (const field of UNSUPPORTED_FIELDS) if (body[field] !== undefined && body[field] !== null) throw fail.invalid(`${field} is not supported by the emulator`)
  if (/[<>\\]/.test(body.name)) throw fail.invalid('name must not contain <, > or \\')
  if (body.usageMask !== undefined && (body.usageMask < 0 || body.usageMask > USAGE.all)) throw fail.invalid('usageMask is out of range')
  if (body.rotationFrequencyDays && !/^\d+$/.test(body.rotationFrequencyDays)) throw fail.invalid('rotationFrequencyDays must be a number of days')
  if (body.labels) checkLabels(body.labels)
}

/**
 * Creates a key (version 0). A taken name is a 409 NCERRKeyAlreadyExists unless returnExisting=true,
 * which answers the existing latest version with 200 (spec §6.1). Non-admins must name an owner in
 * meta.ownerId (TF doc) and need CreateKey on the key's URI.
 */
export function createKey(ctx) {
  const {emu, body, query} = ctx
  checkCreateBody(body)
  const alg = (body.algorithm ?? 'aes').toLowerCase()
  checkEnum('algorithm', alg, ALGORITHMS)
  if (body.objectType !== undefined && body.objectType !== null) {
    checkEnum('objectType', body.objectType, OBJECT_TYPES)
    if (body.objectType !== objectTypeOf(alg)) throw fail.invalid(`objectType ${body.objectType} does not fit algorithm ${alg}`)
  }
  if (!ctx.principal.isAdmin && !body.meta?.ownerId) throw fail.invalid('meta.ownerId is required when a non-administrator creates a key')
  requireAccess(ctx, ['CreateKey'], {uri: keyUri(body.name), attributes: {alg, name: body.name}}, {exists: false})
  const existing = emu.state.keyNames.get(body.name)
  if (existing) {
    if (!boolParam(query, 'returnExisting', false)) throw fail.keyExists(`key with name ${body.name} already exists`)
    return {status: 200, rec: refreshState(latest(existing))}
  }
  const {size, curveid, material} = keyMaterial(alg, body)
  const rec = newRecord({name: body.name, version: 0, alg, size, curveid, material, body})
  storeKey(emu, rec)
  return {status: 201, rec}
}

function withMaterial(rec, query) {
  return boolParam(query, 'includeMaterial', false) ? {...keyView(rec), material: exportMaterial(rec)} : keyView(rec)
}

// ---- lookups

const ID_TYPES = ['id', 'name', 'uri', 'slug', 'alias', 'uuid', 'muid', 'key_id']
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Without ?type CM guesses what {id} is (spec §1.4): an existing id, a UUID, a URI, else a name. */
function inferType(emu, ref) {
  if (emu.state.keys.has(ref)) return 'id'
  if (UUID_RE.test(ref)) return 'uuid'
  return ref.startsWith('kylo:') ? 'uri' : 'name'
}

const byField = (field) => (emu, ref) => [...emu.state.keys.values()].filter((k) => k[field] === ref)

const LOOKUPS = {
  id: (emu, ref) => (emu.state.keys.has(ref) ? [emu.state.keys.get(ref)] : []),
  name: (emu, ref) => emu.state.keyNames.get(ref) ?? [],
  uri: byField('uri'),
  slug: (emu, ref) => [...emu.state.keys.values()].filter((k) => k.uri.split(':').at(-1) === ref),
  alias: (emu, ref) => [...emu.state.keys.values()].filter((k) => k.aliases.some((a) => a.alias === ref)),
  uuid: byField('uuid'),
  muid: byField('muid'),
  key_id: byField('keyId'),
}

/**
 * The key object {ref} names. A name (or URI, slug, alias) resolves to its latest version, or to
 * ?version=N, which is only allowed with type=name (spec §6.4).
 */
export function findKey(emu, ref, query) {
  const type = query.get('type') ?? inferType(emu, ref)
  if (!ID_TYPES.includes(type)) throw fail.badRequest(`invalid value for query parameter type: ${type}`)
  const version = query.has('version') ? intParam(query, 'version') : undefined
  if (version !== undefined && type !== 'name') throw fail.badRequest('version can only be used with type=name')
  const matches = LOOKUPS[type](emu, ref)
  const rec = version === undefined ? latest(matches) : matches.find((k) => k.version === version)
  if (!rec) throw fail.notFound()
  return refreshState(rec)
}

/** Looks a key up and applies CM's visibility rule: 404 for keys the caller may not see. */
function visibleKey(ctx, actions) {
  const rec = findKey(ctx.emu, ctx.params.id, ctx.query)
  requireAccess(ctx, actions, keyResource(rec))
  return rec
}

// ---- list

/** Filters of GET /vault/keys2 (spec §6.3); each applies only when its parameter is present. */
const KEY_FILTERS = {
  name: (v) => (k) => wildcard(v)(k.name),
  state: (v) => (k) => k.state === v,
  alias: (v) => (k) => k.aliases.some((a) => wildcard(v)(a.alias)),
  usageMask: (v) => (k) => (k.usageMask & Number(v)) === Number(v),
  objectType: (v) => (k) => k.objectType === v,
  sha1Fingerprint: (v) => (k) => wildcard(v)(k.sha1Fingerprint),
  sha256Fingerprint: (v) => (k) => wildcard(v)(k.sha256Fingerprint),
  algorithm: (v) => (k) => k.algorithm === v.toUpperCase(),
  size: (v) => (k) => k.size === Number(v),
  curveid: (v) => (k) => k.curveid === v,
  id: (v) => (k) => k.id === v,
  uuid: (v) => (k) => k.uuid === v,
  muid: (v) => (k) => k.muid === v,
  keyId: (v) => (k) => k.keyId === v,
  version: (v) => (k) => k.version === Number(v),
  labels: (v) => {
    const matches = labelSelector(v)
    return (k) => matches(k.labels)
  },
  metaContains: (v) => {
    const want = parseMetaContains(v)
    return (k) => isPlainObject(k.meta) && Object.entries(want).every(([key, value]) => JSON.stringify(k.meta[key]) === JSON.stringify(value))
  },
}
const NUMERIC_FILTERS = ['usageMask', 'size', 'version']

function parseMetaContains(raw) {
  try {
    const want = JSON.parse(raw)
    if (isPlainObject(want)) return want
  } catch {
    // reported below
  }
  throw fail.badRequest('metaContains must be a JSON object')
}

/**
 * Every version object is listed, in creation order; ?name= returns all versions of a name (KRX,
 * INFERRED). Non-admins only see keys they may ReadKey.
 */
function listKeys(ctx) {
  const {emu, query} = ctx
  // Malformed numbers are a 400, not a filter that matches nothing.
  for (const p of NUMERIC_FILTERS) intParam(query, p, 0)
  const filters = Object.entries(KEY_FILTERS).filter(([p]) => query.has(p)).map(([p, make]) => make(query.get(p)))
  const name = query.get('name')
  const candidates = name && !/[*?]/.test(name) ? (emu.state.keyNames.get(name) ?? []) : emu.state.keys.values()
  const now = Date.now()
  const items = []
  for (const rec of candidates) {
    refreshState(rec, now)
    if (filters.every((f) => f(rec)) && permits(emu, ctx.principal, 'ReadKey', keyResource(rec))) items.push(rec)
  }
  const page = listEnvelope(items, query, emu.options.pageDefault, Object.keys(KEY_FILTERS))
  return {body: {...page, resources: page.resources.map(keyView)}}
}

// ---- update, versions, lifecycle, delete

function applyPatch(rec, body) {
  if (body.labels) {
    checkLabels(body.labels)
    for (const [k, v] of Object.entries(body.labels)) {
      if (v === null) delete rec.labels[k]
      else rec.labels[k] = v
    }
  }
  if (body.aliases) rec.aliases = withAliases(rec.aliases, body.aliases)
  // meta merges like labels (INFERRED).
  if (body.meta) rec.meta = Object.fromEntries(Object.entries({...rec.meta, ...body.meta}).filter(([, v]) => v !== null))
  for (const field of Object.keys(PATCH_FIELDS).filter((f) => !['labels', 'aliases', 'meta', 'allVersions'].includes(f))) {
    if (body[field] !== undefined && body[field] !== null) rec[field] = body[field]
  }
  if (body.unexportable !== undefined && body.unexportable !== null) rec.neverExportable = rec.neverExportable || body.unexportable
  rec.updatedAt = nowIso()
  refreshState(rec)
}

/** PATCH merges labels (null deletes one); allVersions applies the change to every version of the name (spec §6.5). */
function patchKey(ctx) {
  const rec = visibleKey(ctx, ['UpdateKey'])
  const body = checkBody(ctx.body, PATCH_FIELDS)
  if (body.usageMask !== undefined && body.usageMask !== null && (body.usageMask < 0 || body.usageMask > USAGE.all)) throw fail.invalid('usageMask is out of range')
  const targets = body.allVersions ? ctx.emu.state.keyNames.get(rec.name) : [rec]
  for (const target of targets) applyPatch(target, body)
  return {body: keyView(rec)}
}

/** A new version is a new object: new id, version + 1, same name and attributes, labels copied (spec §6.7, §11). */
function createVersion(ctx) {
  const rec = visibleKey(ctx, ['CreateKey'])
  const body = checkBody(ctx.body ?? {}, VERSION_FIELDS)
  for (const field of UNSUPPORTED_FIELDS) if (body[field] !== undefined && body[field] !== null) throw fail.invalid(`${field} is not supported by the emulator`)
  if (body.labels) checkLabels(body.labels)
  const base = latest(ctx.emu.state.keyNames.get(rec.name))
  const alg = base.algorithm.toLowerCase()
  const {size, curveid, material} = keyMaterial(alg, {size: base.size, curveid: base.curveid, material: body.material})
  if (size !== base.size || curveid !== base.curveid) throw fail.invalid('material does not match the key size or curve')
  const next = newRecord({name: rec.name, version: base.version + 1, alg, size, curveid, material, body, base})
  storeKey(ctx.emu, next)
  return {status: 201, body: withMaterial(next, ctx.query)}
}

/** Destroy removes the material; the object stays, Destroyed (or Destroyed Compromised). */
function destroyKey(rec) {
  if (rec.state.startsWith('Destroyed')) throw fail.invalid('key is already destroyed')
  rec.state = rec.state === 'Compromised' ? 'Destroyed Compromised' : 'Destroyed'
  rec.destroyDate = nowIso()
  rec.material = undefined
}

/** Revoke deactivates (or, for a compromise, marks Compromised); reactivate returns a Deactivated key to Active (spec §6.8). */
function revokeKey(rec, body) {
  checkBody(body, {reason: 'string', message: 'string', compromiseOccurrenceDate: 'date'}, ['reason'])
  checkEnum('reason', body.reason, REVOKE_REASONS)
  if (rec.state.startsWith('Destroyed')) throw fail.invalid('key is destroyed')
  const compromised = body.reason === 'KeyCompromise' || body.reason === 'CACompromise'
  rec.state = compromised ? 'Compromised' : 'Deactivated'
  rec.revocationReason = body.reason
  if (body.message) rec.revocationMessage = body.message
  if (compromised) rec.compromiseDate = body.compromiseOccurrenceDate ?? nowIso()
  else rec.deactivationDate = nowIso()
}

function reactivateKey(rec, body) {
  checkBody(body, {reason: 'string', message: 'string'}, ['reason'])
  checkEnum('reason', body.reason, REACTIVATE_REASONS)
  if (rec.state !== 'Deactivated') throw fail.invalid(`a ${rec.state} key cannot be reactivated`)
  rec.state = 'Active'
  delete rec.deactivationDate
  delete rec.revocationReason
  delete rec.revocationMessage
}

/** Lifecycle operations answer the updated key; the policy action names are UNKNOWN (DeleteKey / UpdateKey). */
const lifecycle = (action, apply) => (ctx) => {
  const rec = visibleKey(ctx, [action])
  apply(rec, ctx.body ?? {})
  rec.updatedAt = nowIso()
  return {body: keyView(rec)}
}

/** DELETE answers 204; a name deletes its latest version only (INFERRED); undeletable keys are refused. */
function deleteKey(ctx) {
  const rec = visibleKey(ctx, ['DeleteKey'])
  if (rec.undeletable) throw fail.invalid('key is undeletable')
  dropKey(ctx.emu, rec)
  return {status: 204}
}

export const keyRoutes = [
  {
    method: 'POST',
    path: '/api/v1/vault/keys2',
    body: 'json',
    create: 'keyExists',
    handler: (ctx) => {
      const {status, rec} = createKey(ctx)
      return {status, body: withMaterial(rec, ctx.query)}
    },
  },
  {method: 'GET', path: '/api/v1/vault/keys2', handler: listKeys},
  {method: 'GET', path: '/api/v1/vault/keys2/:id', handler: (ctx) => ({body: keyView(visibleKey(ctx, ['ReadKey']))})},
  {method: 'PATCH', path: '/api/v1/vault/keys2/:id', body: 'json', handler: patchKey},
  {method: 'DELETE', path: '/api/v1/vault/keys2/:id', handler: deleteKey},
  {method: 'POST', path: '/api/v1/vault/keys2/:id/versions', body: 'optionalJson', handler: createVersion},
  {method: 'POST', path: '/api/v1/vault/keys2/:id/destroy', body: 'none', handler: lifecycle('DeleteKey', destroyKey)},
  {method: 'POST', path: '/api/v1/vault/keys2/:id/revoke', body: 'json', handler: lifecycle('UpdateKey', revokeKey)},
  {method: 'POST', path: '/api/v1/vault/keys2/:id/reactivate', body: 'json', handler: lifecycle('UpdateKey', reactivateKey)},
]
