import {hostname} from 'node:os'

import {parseBundle} from './certs.js'
import {BundleError} from './errors.js'
import {encodeJws} from './jws.js'
import type {Signer} from './keys.js'

export interface LayerOptions {
  signer: Signer
  issuer?: string
  ttlMs: number
  now?: number
}

/** The reference's default issuer: the signing host's name. */
export function defaultIssuer(): string {
  return hostname()
}

function registered(opts: LayerOptions): {iss: string; iat: number; nbf: number; exp: number} {
  const now = Math.floor((opts.now ?? Date.now()) / 1000)
  return {iss: opts.issuer ?? defaultIssuer(), iat: now, nbf: now, exp: now + Math.ceil(opts.ttlMs / 1000)}
}

function sign(payload: Record<string, unknown>, signer: Signer): Promise<string> {
  return encodeJws({alg: signer.algorithm, typ: 'JWT'}, payload, (input) => signer.sign(input))
}

/** The innermost layer: the PEM bundle in `spiffetb`. The bundle must hold at least one certificate. */
export async function createInnermostToken(bundlePem: string, opts: LayerOptions): Promise<string> {
  try {
    parseBundle(bundlePem)
  } catch (err) {
    throw new BundleError('INVALID_BUNDLE', `refusing to sign: ${(err as Error).message}`, {suggestions: ['give the PEM that "spire-server bundle show -format pem" prints']})
  }
  return sign({spiffetb: bundlePem, ...registered(opts)}, opts.signer)
}

/** A nested layer around an existing token, in `jwt` (what signer-unix does for Content-Type application/jwt). */
export async function createNestedToken(innerToken: string, opts: LayerOptions): Promise<string> {
  const inner = innerToken.trim()
  if (inner.split('.').length !== 3) throw new BundleError('TOKEN_MALFORMED', 'the token to wrap is not a JWS compact token')
  return sign({jwt: inner, ...registered(opts)}, opts.signer)
}
