// API versions (spec §1). Each service is given the list it serves; behaviour that changed between
// Keylime releases is chosen from the highest version in that list (the release that introduced it).

/** Pull-model API versions the servers may list (3.0 is the push model: not emulated). */
const SERVER_VERSIONS = ['1.0', '2.0', '2.1', '2.2', '2.3', '2.4', '2.5', '2.6']
/** Agents never served 1.0 under a /v1.0 scope (spec §1.1: rust agents serve 2.0 … 2.6). */
const AGENT_VERSIONS = SERVER_VERSIONS.slice(1)

export const DEFAULT_VERSIONS = ['2.0', '2.1', '2.2', '2.3']

export function compareVersions(a, b) {
  const [am, an] = a.split('.').map(Number)
  const [bm, bn] = b.split('.').map(Number)
  return am - bm || an - bn
}

export const atLeast = (version, min) => compareVersions(version, min) >= 0
export const latest = (versions) => versions.at(-1)

function checkList(list, known, what) {
  if (!Array.isArray(list) || list.length === 0) throw new TypeError(`startKeylime: ${what} must be a non-empty array of versions`)
  for (const v of list) {
    if (!known.includes(v)) throw new TypeError(`startKeylime: ${what}: unknown API version ${JSON.stringify(v)} (known: ${known.join(', ')})`)
  }
  return [...new Set(list)].sort(compareVersions)
}

export const serverVersions = (list, what) => checkList(list, SERVER_VERSIONS, what)
export const agentVersions = (list, what) => checkList(list, AGENT_VERSIONS, what)

/**
 * Python servers map /v2/... to the latest 2.x they serve (spec §1.2, api_version.normalize_version).
 * Returns the normalized version, or undefined when the token names none the server serves.
 */
export function normalizeVersion(token, versions) {
  const m = /^v?(\d+)(?:\.(\d+))?$/.exec(token)
  if (!m) return undefined
  const wanted = m[2] === undefined ? versions.filter((v) => v.startsWith(`${m[1]}.`)).at(-1) : `${Number(m[1])}.${Number(m[2])}`
  return versions.includes(wanted) ? wanted : undefined
}
