import {createPrivateKey, createPublicKey, sign as cryptoSign, type KeyObject} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {basename} from 'node:path'

import {fileErrorFrom, isTrustctlError} from '../core/errors.js'
import {BundleError} from './errors.js'

export type JwsAlg = 'RS256' | 'ES256'

/** A verification key and the one algorithm it may verify (never taken from a token header). */
export interface VerifyKey {
  name: string
  path: string
  key: KeyObject
  alg: JwsAlg
}

/** Signs JWS layers: a TPM key, a PEM private-key file, later a KMS key. */
export interface Signer {
  readonly algorithm: JwsAlg
  readonly description: string
  sign(data: Uint8Array): Promise<Buffer>
}

export function algorithmOf(key: KeyObject, what: string): JwsAlg {
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < 2048) throw new BundleError('INVALID_KEY', `${what} is an RSA key of ${bits} bits; at least 2048 are required`)
    return 'RS256'
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve
    if (curve !== 'prime256v1') throw new BundleError('INVALID_KEY', `${what} is an EC key on ${curve}; only P-256 (ES256) is supported`)
    return 'ES256'
  }
  throw new BundleError('INVALID_KEY', `${what} is a ${key.asymmetricKeyType} key; only RSA (RS256) and EC P-256 (ES256) are supported`)
}

async function readKeyFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const fe = fileErrorFrom(err, path, `read ${what}`)
    if (isTrustctlError(fe) && fe.code === 'FILE_NOT_FOUND') throw new BundleError('KEY_NOT_FOUND', fe.message)
    throw fe
  }
}

/** A PEM public key (SubjectPublicKeyInfo, or a certificate's key). */
export async function loadPublicKey(path: string, name = basename(path)): Promise<VerifyKey> {
  const text = await readKeyFile(path, 'public key')
  let key: KeyObject
  try {
    key = createPublicKey(text)
  } catch {
    throw new BundleError('INVALID_KEY', `${path} is not a PEM public key`, {suggestions: ['export it with "trustctl tpm pubkey --out FILE"']})
  }
  return {name, path, key, alg: algorithmOf(key, path)}
}

/** A public key given as PEM text (e.g. read from the TPM). */
export function verifyKeyFromPem(name: string, pem: string): VerifyKey {
  const key = createPublicKey(pem)
  return {name, path: name, key, alg: algorithmOf(key, name)}
}

/** A PEM private-key file (RSA or EC P-256), for development and CI. */
export async function loadPemSigner(path: string): Promise<Signer> {
  const text = await readKeyFile(path, 'private key')
  let key: KeyObject
  try {
    key = createPrivateKey(text)
  } catch {
    throw new BundleError('INVALID_KEY', `${path} is not a PEM private key (or it is encrypted)`, {
      suggestions: ['give an unencrypted PKCS#8 or PKCS#1/SEC1 PEM key, e.g. from "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048"'],
    })
  }
  const alg = algorithmOf(key, path)
  return {
    algorithm: alg,
    description: `key file ${path}`,
    // ES256 in JWS is the 64-byte r||s form (IEEE P1363), not DER.
    sign: async (data) => cryptoSign('sha256', data, alg === 'ES256' ? {key, dsaEncoding: 'ieee-p1363'} : key),
  }
}
