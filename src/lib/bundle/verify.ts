import {verify as cryptoVerify} from 'node:crypto'

import {parseBundle, type CertificateInfo} from './certs.js'
import {BundleError} from './errors.js'
import {decodeJws} from './jws.js'
import type {VerifyKey} from './keys.js'

export const DEFAULT_LEEWAY_SEC = 5
export const DEFAULT_MAX_TOKEN_BYTES = 1024 * 1024

export interface Keyset {
  name?: string
  /** Innermost signer first, as in the reference's `chain`. */
  chain: VerifyKey[]
  backup?: VerifyKey
}

export interface VerifyOptions {
  now?: number
  leewaySec?: number
  maxBytes?: number
  /** Expected issuer per layer, innermost first; undefined or '-' = any. */
  issuers?: Array<string | undefined>
}

export interface LayerReport {
  /** 1 = innermost, as the chain is listed. */
  layer: number
  issuer: string
  iat: number
  nbf?: number
  exp: number
  alg: string
  key: string
  backup: boolean
}

export interface VerifyResult {
  bundle: string
  layers: LayerReport[]
  backupUsed: boolean
  backupLayer: number | null
  certificates: CertificateInfo[]
}

/**
 * Verifies a nested trust-bundle token against a keyset exactly as the reference verifier does
 * (outermost layer with the last chain key, descending through `jwt` to the innermost layer and its
 * `spiffetb`; the backup key may stand in for any ONE layer, the innermost included; 5 s leeway),
 * and stricter where specs/bundle-token.md says BETTER: algorithm bound to the key type, exact
 * depth, required claims, issuer pinning, size limit before parsing, at least one certificate.
 */
export function verifyToken(tokenText: string, keyset: Keyset, opts: VerifyOptions = {}): VerifyResult {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_TOKEN_BYTES
  const size = Buffer.byteLength(tokenText, 'utf8')
  if (size > maxBytes) {
    throw new BundleError('TOKEN_TOO_LARGE', `the token is ${size} bytes, over the ${maxBytes}-byte limit; not parsed`, {suggestions: ['raise the limit with --max-size if the bundle is really that large']})
  }
  const n = keyset.chain.length
  if (n === 0) throw new BundleError('CONFIG_INVALID', 'the keyset chain is empty')
  const now = (opts.now ?? Date.now()) / 1000
  const leeway = opts.leewaySec ?? DEFAULT_LEEWAY_SEC
  let token = tokenText.trim()
  let backupLayer: number | null = null
  const layers: LayerReport[] = []

  for (let layer = n; layer >= 1; layer--) {
    const where = `layer ${layer} of ${n}${n > 1 ? (layer === n ? ' (outermost)' : layer === 1 ? ' (innermost)' : '') : ''}`
    const jws = decodeJws(token, where)
    const expected = keyset.chain[layer - 1] as VerifyKey
    const alg = checkHeader(jws.header, where)

    // Signature: the expected key, else the backup key if it is still unused.
    let used = tryKey(expected, alg, jws.signingInput, jws.signature)
    let usedBackup = false
    if (used !== true) {
      const backup = keyset.backup
      if (backup && backupLayer === null && tryKey(backup, alg, jws.signingInput, jws.signature) === true) {
        usedBackup = true
        backupLayer = layer
        used = true
      } else {
        const why = used === 'alg' ? `its alg ${alg} does not fit ${expected.name} (${expected.alg} key)` : `the signature does not verify with ${expected.name}`
        const backupNote = !backup
          ? ''
          : backupLayer !== null
            ? `; the backup key ${backup.name} was already used for layer ${backupLayer}`
            : `, nor with the backup key ${backup.name}`
        throw new BundleError('SIGNATURE_INVALID', `${where}: ${why}${backupNote}`, {
          suggestions: [`check that the chain lists the signers innermost first (${keyset.chain.map((k) => k.name).join(', ')}) and that the keys are current`],
          details: {layer, key: expected.name},
        })
      }
    }
    const key = usedBackup ? (keyset.backup as VerifyKey) : expected
    const claims = checkClaims(jws.payload, where, now, leeway)
    const pinned = opts.issuers?.[layer - 1]
    if (pinned !== undefined && pinned !== '-' && claims.iss !== pinned) {
      throw new BundleError('ISSUER_MISMATCH', `${where}: issuer is "${claims.iss}", expected "${pinned}"`, {details: {layer}})
    }
    layers.push({layer, issuer: claims.iss, iat: claims.iat, ...(claims.nbf === undefined ? {} : {nbf: claims.nbf}), exp: claims.exp, alg, key: key.name, backup: usedBackup})

    const inner = jws.payload.jwt
    const bundle = jws.payload.spiffetb
    if (layer > 1) {
      if (typeof inner !== 'string') {
        if (typeof bundle === 'string') {
          throw new BundleError('TOO_FEW_LAYERS', `the token has ${n - layer + 1} layer${n - layer + 1 > 1 ? 's' : ''} but the chain lists ${n} keys: ${where} holds the bundle (spiffetb) instead of a token (jwt)`)
        }
        throw new BundleError('MISSING_CLAIM', `${where}: no "jwt" claim (the inner token) in a nested layer`)
      }
      token = inner
      continue
    }
    if (typeof bundle !== 'string') {
      if (typeof inner === 'string') {
        throw new BundleError('TOO_MANY_LAYERS', `the token has more layers than the chain's ${n} key${n > 1 ? 's' : ''}: ${where} holds another token (jwt) instead of the bundle (spiffetb)`)
      }
      throw new BundleError('MISSING_CLAIM', `${where}: no "spiffetb" claim (the trust bundle) in the innermost layer`)
    }
    const certificates = parseBundle(bundle, `the bundle in ${where}`)
    return {bundle, layers: layers.reverse(), backupUsed: backupLayer !== null, backupLayer, certificates}
  }
  throw new Error('unreachable')
}

/**
 * Verifies only the outermost layer of a token with any of the given keys (signer-http's check of
 * an incoming token, signer-unix's check before /publish). Returns the key that verified it.
 */
export function verifyOuterLayer(tokenText: string, keys: VerifyKey[], opts: {now?: number; leewaySec?: number; maxBytes?: number} = {}): {key: VerifyKey; payload: Record<string, unknown>} {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_TOKEN_BYTES
  const size = Buffer.byteLength(tokenText, 'utf8')
  if (size > maxBytes) throw new BundleError('TOKEN_TOO_LARGE', `the token is ${size} bytes, over the ${maxBytes}-byte limit; not parsed`)
  const where = 'outer layer'
  const jws = decodeJws(tokenText.trim(), where)
  const alg = checkHeader(jws.header, where)
  const key = keys.find((k) => tryKey(k, alg, jws.signingInput, jws.signature) === true)
  if (!key) throw new BundleError('SIGNATURE_INVALID', `${where}: the signature does not verify with ${keys.map((k) => k.name).join(' or ')}`)
  checkClaims(jws.payload, where, (opts.now ?? Date.now()) / 1000, opts.leewaySec ?? DEFAULT_LEEWAY_SEC)
  return {key, payload: jws.payload}
}

/**
 * For signer-unix /publish: every layer must be a well-formed, current JWS, and the innermost layer
 * (the one this signer made from the bundle) must verify with one of the given keys. Outer layers
 * belong to remote signers whose keys this signer does not hold; the publisher verifies the chain.
 */
export function verifyInnermostLayer(tokenText: string, keys: VerifyKey[], opts: {now?: number; maxBytes?: number; maxDepth?: number} = {}): {key: VerifyKey; depth: number} {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_TOKEN_BYTES
  if (Buffer.byteLength(tokenText, 'utf8') > maxBytes) throw new BundleError('TOKEN_TOO_LARGE', `the token is over the ${maxBytes}-byte limit; not parsed`)
  const now = (opts.now ?? Date.now()) / 1000
  let token = tokenText.trim()
  for (let depth = 1; depth <= (opts.maxDepth ?? 16); depth++) {
    const where = `layer ${depth} from the outside`
    const jws = decodeJws(token, where)
    const alg = checkHeader(jws.header, where)
    checkClaims(jws.payload, where, now, DEFAULT_LEEWAY_SEC)
    if (typeof jws.payload.jwt === 'string') {
      token = jws.payload.jwt
      continue
    }
    if (typeof jws.payload.spiffetb !== 'string') throw new BundleError('MISSING_CLAIM', `${where}: neither "jwt" nor "spiffetb"`)
    const key = keys.find((k) => tryKey(k, alg, jws.signingInput, jws.signature) === true)
    if (!key) throw new BundleError('SIGNATURE_INVALID', `the innermost layer does not verify with ${keys.map((k) => k.name).join(' or ')}`)
    parseBundle(jws.payload.spiffetb, 'the bundle in the innermost layer')
    return {key, depth}
  }
  throw new BundleError('TOO_MANY_LAYERS', `the token is nested deeper than ${opts.maxDepth ?? 16} layers`)
}

/** The header's alg, which must be RS256 or ES256; never none, HMAC or anything else. */
function checkHeader(header: Record<string, unknown>, where: string): string {
  const alg = header.alg
  if (typeof alg !== 'string') throw new BundleError('ALG_REJECTED', `${where}: the header has no "alg"`)
  if (alg.toLowerCase() === 'none') throw new BundleError('ALG_REJECTED', `${where}: alg "none" (an unsigned token) is never accepted`)
  if (/^HS/i.test(alg)) throw new BundleError('ALG_REJECTED', `${where}: alg ${alg} (HMAC) is never accepted: a public key is not a shared secret`)
  if (alg !== 'RS256' && alg !== 'ES256') throw new BundleError('ALG_REJECTED', `${where}: alg ${alg} is not accepted (only RS256 and ES256)`)
  if (header.crit !== undefined) throw new BundleError('ALG_REJECTED', `${where}: the header has critical extensions ("crit"), which are not supported`)
  return alg
}

/** true, or why not: 'alg' when the header's alg does not match the key type, 'sig' for a bad signature. */
function tryKey(key: VerifyKey, alg: string, signingInput: Buffer, signature: Buffer): true | 'alg' | 'sig' {
  if (alg !== key.alg) return 'alg'
  if (key.alg === 'ES256' && signature.length !== 64) return 'sig'
  try {
    const ok = cryptoVerify('sha256', signingInput, key.alg === 'ES256' ? {key: key.key, dsaEncoding: 'ieee-p1363'} : key.key, signature)
    return ok ? true : 'sig'
  } catch {
    return 'sig'
  }
}

function checkClaims(p: Record<string, unknown>, where: string, now: number, leeway: number): {iss: string; iat: number; nbf?: number; exp: number} {
  const num = (k: string, required: boolean): number | undefined => {
    const v = p[k]
    if (v === undefined) {
      if (required) throw new BundleError('MISSING_CLAIM', `${where}: no "${k}" claim`)
      return undefined
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new BundleError('TOKEN_MALFORMED', `${where}: claim "${k}" is not a NumericDate`)
    return v
  }
  const exp = num('exp', true) as number
  const iat = num('iat', true) as number
  const nbf = num('nbf', false)
  if (typeof p.iss !== 'string') throw new BundleError('MISSING_CLAIM', `${where}: no "iss" claim`)
  if (now > exp + leeway) {
    throw new BundleError('EXPIRED', `${where}: expired ${ago(now - exp)} ago (exp ${iso(exp)}; leeway ${leeway} s)`, {
      suggestions: ['the signer re-signs before expiry; check that the publisher runs and that the clocks agree'],
      details: {exp, now: Math.floor(now), bySeconds: Math.round(now - exp)},
    })
  }
  if (nbf !== undefined && now + leeway < nbf) {
    throw new BundleError('NOT_YET_VALID', `${where}: not valid for another ${ago(nbf - now)} (nbf ${iso(nbf)}; leeway ${leeway} s)`, {
      suggestions: ["check this host's clock against the signer's"],
      details: {nbf, now: Math.floor(now), bySeconds: Math.round(nbf - now)},
    })
  }
  if (now + leeway < iat) {
    throw new BundleError('ISSUED_IN_FUTURE', `${where}: issued ${ago(iat - now)} in the future (iat ${iso(iat)}; leeway ${leeway} s)`, {
      suggestions: ["check this host's clock against the signer's"],
      details: {iat, now: Math.floor(now), bySeconds: Math.round(iat - now)},
    })
  }
  return {iss: p.iss, iat, ...(nbf === undefined ? {} : {nbf}), exp}
}

function iso(sec: number): string {
  const d = new Date(sec * 1000)
  return Number.isNaN(d.getTime()) ? String(sec) : d.toISOString()
}

/** "42 s", "3 min 5 s", "2 h 1 min" */
export function ago(sec: number): string {
  const s = Math.round(Math.abs(sec))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`
  if (s < 86_400 * 2) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`
  return `${Math.floor(s / 86_400)} days`
}
