// POST /api/v1/crypto/sign and /api/v1/crypto/signv (spec §7.1, §7.2): raw octet-stream bodies,
// parameters in the query, hex signatures. ECDSA signatures are DER SEQUENCE{r, s}; RSA uses
// PKCS#1 v1.5 (the REST names of the PSS options are UNKNOWN, so they are not accepted).
import {constants, createPublicKey, privateEncrypt, publicDecrypt, sign, verify} from 'node:crypto'
import {URLSearchParams} from 'node:url'

import {ApiError, fail} from './errors.js'
import {signDigest, supportsDigestSigning, verifyDigest} from './ecdsa.js'
import {findKey, keyResource} from './keys.js'
import {requireAccess} from './policies.js'
import {checkEnum, checkQuery} from './validate.js'

/** hashAlgo values (spec §7.1); `none` means the body already is the digest. */
const HASHES = {none: null, sha1: 'sha1', 'sha-1': 'sha1', sha256: 'sha256', 'sha-256': 'sha256', sha384: 'sha384', 'sha-384': 'sha384', sha512: 'sha512', 'sha-512': 'sha512'}
const SIGN = {name: 'Sign', bit: 1}
const VERIFY = {name: 'Verify', bit: 2}
const PKCS1 = constants.RSA_PKCS1_PADDING

/**
 * CM rejects crypto calls whose Accept header does not allow JSON (INFERRED: a third-party fake
 * "verified against a live CM 2.22" does this with this message).
 */
function checkAccept(req) {
  const accept = req.headers.accept ?? ''
  if (!/(^|,)\s*(\*\/\*|application\/\*|application\/json)\s*(;|,|$)/i.test(accept)) throw fail.badRequest('Accept header is invalid.')
}

function hashOf(query) {
  const raw = query.get('hashAlgo')
  // Whether CM has a default hash is UNKNOWN; requiring it keeps clients explicit.
  if (!raw) throw fail.invalid('hashAlgo is required')
  const hash = HASHES[raw.toLowerCase()]
  if (hash === undefined) throw fail.invalid(`hashAlgo must be one of: none, SHA1, SHA-256, SHA-384, SHA-512`)
  return hash
}

/** The key named by keyName (latest version, or ?version=), checked against signAlgo, usage mask and policy. */
function operationKey(ctx, usage, actions) {
  const {query} = ctx
  const keyName = query.get('keyName')
  if (!keyName) throw fail.invalid('keyName is required')
  const lookup = new URLSearchParams({type: 'name'})
  if (query.has('version')) lookup.set('version', query.get('version'))
  const rec = findKey(ctx.emu, keyName, lookup)
  requireAccess(ctx, actions, keyResource(rec))
  // signAlgo defaults to RSA, like ksctl's --sign-algo (spec §7.1).
  const signAlgo = (query.get('signAlgo') ?? 'RSA').toUpperCase()
  checkEnum('signAlgo', signAlgo, ['RSA', 'ECDSA'])
  if (rec.algorithm !== (signAlgo === 'RSA' ? 'RSA' : 'EC')) throw fail.invalid(`signAlgo ${signAlgo} does not fit the ${rec.algorithm} key ${keyName}`)
  if ((rec.usageMask & usage.bit) === 0) throw fail.invalid(`the usage mask of key ${keyName} does not permit ${usage.name}`)
  if (!rec.material) throw fail.invalid(`key ${keyName} has no key material (state ${rec.state})`)
  return rec
}

/** hashAlgo=none signs the body as given: PKCS#1 v1.5 padding without a DigestInfo for RSA (like Go's crypto.Hash(0)). */
function signBytes(rec, hash, data) {
  const {privateKey} = rec.material
  if (rec.algorithm === 'RSA') return hash ? sign(hash, data, {key: privateKey, padding: PKCS1}) : privateEncrypt({key: privateKey, padding: PKCS1}, data)
  if (hash) return sign(hash, data, privateKey)
  if (!supportsDigestSigning(rec.curveid)) throw fail.invalid(`hashAlgo none is not supported by the emulator for curve ${rec.curveid}`)
  return signDigest(rec.curveid, privateKey.export({format: 'jwk'}), data)
}

function verifyBytes(rec, hash, data, signature) {
  const publicKey = createPublicKey(rec.material.privateKey)
  if (rec.algorithm === 'RSA') {
    if (hash) return verify(hash, data, {key: publicKey, padding: PKCS1}, signature)
    return publicDecrypt({key: publicKey, padding: PKCS1}, signature).equals(data)
  }
  if (hash) return verify(hash, data, publicKey, signature)
  if (!supportsDigestSigning(rec.curveid)) throw fail.invalid(`hashAlgo none is not supported by the emulator for curve ${rec.curveid}`)
  return verifyDigest(rec.curveid, publicKey.export({format: 'jwk'}), data, signature)
}

function requireData(body) {
  if (!body || body.length === 0) throw fail.invalid('data to sign is required')
  return body
}

function signHandler(ctx) {
  checkAccept(ctx.req)
  checkQuery(ctx.query, ['keyName', 'version', 'signAlgo', 'hashAlgo'])
  const hash = hashOf(ctx.query)
  const rec = operationKey(ctx, SIGN, ['SignWithKey', 'UseKey'])
  if (rec.state !== 'Active') throw fail.invalid(`key ${rec.name} is ${rec.state}; only Active keys sign`)
  let signature
  try {
    signature = signBytes(rec, hash, requireData(ctx.body))
  } catch (err) {
    if (err instanceof ApiError) throw err
    throw fail.invalid(`cannot sign with key ${rec.name}: ${err.message}`)
  }
  return {body: {data: signature.toString('hex'), keyId: rec.id, keyVersion: rec.version}}
}

/** A signature that does not verify is {verified: false}, not an error (CAP reads $.verified). */
function verifyHandler(ctx) {
  checkAccept(ctx.req)
  checkQuery(ctx.query, ['keyName', 'version', 'signAlgo', 'hashAlgo', 'signature'])
  const hash = hashOf(ctx.query)
  const signatureHex = ctx.query.get('signature')
  if (!signatureHex) throw fail.invalid('signature is required')
  if (!/^([0-9a-fA-F]{2})+$/.test(signatureHex)) throw fail.badRequest('signature must be hex-encoded')
  const rec = operationKey(ctx, VERIFY, ['SignVerifyWithKey', 'UseKey'])
  let verified
  try {
    verified = verifyBytes(rec, hash, requireData(ctx.body), Buffer.from(signatureHex, 'hex'))
  } catch (err) {
    if (err instanceof ApiError) throw err
    verified = false
  }
  return {body: {verified}}
}

export const cryptoRoutes = [
  {method: 'POST', path: '/api/v1/crypto/sign', body: 'raw', handler: signHandler},
  {method: 'POST', path: '/api/v1/crypto/signv', body: 'raw', handler: verifyHandler},
]
