// How keylime's legacy Python handlers read a request (keylime/web_util.py get_restful_params, spec
// §1.2, §3.5): the raw path (NOT percent-decoded) is split into key/value pairs, a leading version
// token is normalized, and the query string is merged on top with parse_qsl semantics.
import {URLSearchParams} from 'node:url'

import {normalizeVersion} from './versions.js'

/** parse_qsl: '+' is a space, blank values are dropped, a later duplicate wins. */
function parseQsl(rawQuery) {
  const out = {}
  for (const [key, value] of new URLSearchParams(rawQuery)) if (value !== '') out[key] = value
  return out
}

/** [k0, v0, k1, v1, …] → {k0: v0, k1: v1, …}; a key without a value maps to null. */
function listToDict(tokens) {
  const params = {}
  for (let i = 0; i < tokens.length; i += 2) params[tokens[i]] = i + 1 < tokens.length ? tokens[i + 1] : null
  return params
}

/**
 * {api_version, ...path pairs, ...query}. api_version is 0 (falsy, as in Python) when the first
 * segment is not a version the server serves; a first segment that merely starts like a version
 * is consumed either way, as the Python code does.
 */
export function restfulParams(path, rawQuery, versions) {
  const tokens = path.replace(/^\/+|\/+$/g, '').split('/')
  let apiVersion = 0
  if (tokens[0] && /^v?[0-9]+(\.[0-9]+)?/.test(tokens[0])) apiVersion = normalizeVersion(tokens.shift(), versions) ?? 0
  return {...listToDict(tokens), api_version: apiVersion, ...parseQsl(rawQuery)}
}

/** keylime.common.validators.valid_agent_id (spec §3.2). */
export const validAgentId = (id) => /^[\w.-]+$/.test(id)
