// Request validation shared by all resources: JSON field schemas, query parameters, the list
// envelope, wildcard filters and the label syntax and selector of spec §6.6.
import {fail} from './errors.js'

export const isPlainObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v)

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/

/** Field types a schema can name; `null` is accepted for every optional field (Go's decoder does). */
const TYPES = {
  string: (v) => typeof v === 'string',
  integer: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  object: isPlainObject,
  array: Array.isArray,
  strings: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'),
  labels: (v) => isPlainObject(v) && Object.values(v).every((s) => typeof s === 'string'),
  labelsPatch: (v) => isPlainObject(v) && Object.values(v).every((s) => s === null || typeof s === 'string'),
  date: (v) => typeof v === 'string' && RFC3339.test(v) && !Number.isNaN(Date.parse(v)),
}

const isBlank = (v) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '')

/**
 * Checks a decoded JSON body against {field: type}. An unknown field or a wrong type is a 400 like a
 * strict Go decoder's; a missing or empty required field is a 422.
 * INFERRED: real CM may silently ignore unknown fields; rejecting them catches client typos.
 */
export function checkBody(body, schema, required = []) {
  if (!isPlainObject(body)) throw fail.badRequest('json: request body must be a JSON object')
  for (const [field, value] of Object.entries(body)) {
    const type = schema[field]
    if (!type) throw fail.badRequest(`json: unknown field "${field}"`)
    if (value !== null && !TYPES[type](value)) throw fail.badRequest(`json: cannot unmarshal ${jsonType(value)} into field "${field}" of type ${type}`)
  }
  checkRequired(body, required)
  return body
}

/** A missing, null or blank required field is a 422. */
export function checkRequired(body, fields) {
  for (const field of fields) if (isBlank(body[field])) throw fail.invalid(`${field} is required`)
}

function jsonType(v) {
  if (Array.isArray(v)) return 'array'
  return typeof v === 'object' ? 'object' : typeof v
}

/** Throws a 422 unless value is one of allowed (compared case-insensitively when asked). */
export function checkEnum(field, value, allowed, {ignoreCase = false} = {}) {
  const norm = (s) => (ignoreCase ? String(s).toLowerCase() : s)
  if (!allowed.some((a) => norm(a) === norm(value))) throw fail.invalid(`${field} must be one of: ${allowed.join(', ')}`)
}

// ---- query parameters

export function intParam(query, name, fallback) {
  const raw = query.get(name)
  if (raw === null || raw === '') return fallback
  if (!/^\d+$/.test(raw)) throw fail.badRequest(`invalid value for query parameter ${name}: ${raw}`)
  return Number(raw)
}

export function boolParam(query, name, fallback) {
  const raw = query.get(name)
  if (raw === null || raw === '') return fallback
  if (raw !== 'true' && raw !== 'false') throw fail.badRequest(`invalid value for query parameter ${name}: ${raw}`)
  return raw === 'true'
}

/**
 * The list envelope of spec §1.2. limit=0 or no limit means the server default (10): SPIRE sends
 * limit=0 and expects results (INFERRED). Unknown query parameters are ignored and reported in
 * `messages`, as CM's paging comments describe. An empty page is [] (CM may also send null).
 */
export function listEnvelope(items, query, pageDefault, knownParams) {
  const skip = intParam(query, 'skip', 0)
  const limit = intParam(query, 'limit', 0) || pageDefault
  const envelope = {skip, limit, total: items.length, resources: items.slice(skip, skip + limit)}
  const unknown = [...new Set(query.keys())].filter((k) => k !== 'skip' && k !== 'limit' && !knownParams.includes(k))
  if (unknown.length > 0) envelope.messages = unknown.map((k) => `unsupported query parameter "${k}" was ignored`)
  return envelope
}

/** Rejects query parameters an endpoint does not know (used where guessing a name would be silent). */
export function checkQuery(query, knownParams) {
  for (const k of query.keys()) if (!knownParams.includes(k)) throw fail.badRequest(`unknown query parameter "${k}"`)
}

/** Matches CM's wildcard filters (`*`, `?`); without wildcards the match is exact. */
export function wildcard(pattern) {
  if (!/[*?]/.test(pattern)) return (s) => s === pattern
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's')
  return (s) => typeof s === 'string' && re.test(s)
}

// ---- labels (spec §6.6)

const LABEL_PART = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/
const DNS_PREFIX = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/

function labelKeyValid(key) {
  const slash = key.lastIndexOf('/')
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined
  const name = key.slice(slash + 1)
  if (prefix !== undefined && (prefix.length > 253 || !DNS_PREFIX.test(prefix))) return false
  return name.length <= 63 && LABEL_PART.test(name)
}

const labelValueValid = (value) => value === '' || (value.length <= 63 && LABEL_PART.test(value))

/** Label keys/values follow the Kubernetes-like syntax; `ncryptify-reserved*` keys belong to CM. */
export function checkLabels(labels) {
  for (const [key, value] of Object.entries(labels)) {
    if (!labelKeyValid(key)) throw fail.invalid(`invalid label key "${key}"`)
    if (key.startsWith('ncryptify-reserved')) throw fail.invalid(`label key "${key}" is reserved`)
    if (value !== null && !labelValueValid(value)) throw fail.invalid(`invalid value for label "${key}"`)
  }
}

/** Splits on commas outside parentheses, so `k in (a,b),x=y` has two terms. */
function selectorTerms(selector) {
  const terms = []
  let depth = 0
  let start = 0
  for (let i = 0; i < selector.length; i++) {
    if (selector[i] === '(') depth++
    else if (selector[i] === ')') depth--
    else if (selector[i] === ',' && depth === 0) {
      terms.push(selector.slice(start, i))
      start = i + 1
    }
  }
  terms.push(selector.slice(start))
  return terms.map((t) => t.trim())
}

const KEY = '([A-Za-z0-9][A-Za-z0-9._/-]*)'
const TERM_PATTERNS = [
  [new RegExp(`^!${KEY}$`), (m) => ({key: m[1], op: 'absent'})],
  [new RegExp(`^${KEY}\\s+(in|notin)\\s*\\(([^)]*)\\)$`), (m) => ({key: m[1], op: m[2], values: m[3].split(',').map((v) => v.trim())})],
  [new RegExp(`^${KEY}\\s*(!=|==|=)\\s*([A-Za-z0-9._-]*)$`), (m) => ({key: m[1], op: m[2] === '!=' ? 'ne' : 'eq', values: [m[3]]})],
  [new RegExp(`^${KEY}$`), (m) => ({key: m[1], op: 'present'})],
]

const TESTS = {
  eq: (labels, r) => Object.hasOwn(labels, r.key) && labels[r.key] === r.values[0],
  ne: (labels, r) => !(Object.hasOwn(labels, r.key) && labels[r.key] === r.values[0]),
  in: (labels, r) => Object.hasOwn(labels, r.key) && r.values.includes(labels[r.key]),
  notin: (labels, r) => !(Object.hasOwn(labels, r.key) && r.values.includes(labels[r.key])),
  present: (labels, r) => Object.hasOwn(labels, r.key),
  absent: (labels, r) => !Object.hasOwn(labels, r.key),
}

/**
 * Compiles a `labels=` filter into a predicate over a labels map. `k1=v1,k2=v2` is an AND of
 * equalities (CONFIRMED, SPIRE) and `k=` matches an empty-valued tag; `!=`, `in (...)`, `notin (...)`,
 * bare `k` and `!k` follow Kubernetes selectors (INFERRED from ksctl's --labels-query help).
 */
export function labelSelector(selector) {
  const requirements = selectorTerms(selector).map((term) => {
    for (const [re, build] of TERM_PATTERNS) {
      const m = re.exec(term)
      if (m) return build(m)
    }
    throw fail.badRequest(`invalid label selector term "${term}"`)
  })
  return (labels) => requirements.every((r) => TESTS[r.op](labels ?? {}, r))
}
