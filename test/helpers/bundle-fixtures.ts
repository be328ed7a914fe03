import {createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, type KeyObject} from 'node:crypto'
import forge from 'node-forge'

import {algorithmOf, type Signer, type VerifyKey} from '../../src/lib/bundle/keys.js'
import {createInnermostToken, createNestedToken} from '../../src/lib/bundle/token.js'

export interface TestKey {
  name: string
  privatePem: string
  publicPem: string
  signer: Signer
  verifyKey: VerifyKey
}

export function testKey(name: string, type: 'rsa' | 'ec' = 'rsa'): TestKey {
  // Generated encoded and re-imported: Node 20 can deadlock exporting a key object still shared with
  // its (garbage) key-generation job while GC finalises that job.
  const privateKeyEncoding = {type: 'pkcs8', format: 'pem'} as const
  const publicKeyEncoding = {type: 'spki', format: 'pem'} as const
  const pems =
    type === 'rsa'
      ? generateKeyPairSync('rsa', {modulusLength: 2048, privateKeyEncoding, publicKeyEncoding})
      : generateKeyPairSync('ec', {namedCurve: 'P-256', privateKeyEncoding, publicKeyEncoding})
  const privateKey = createPrivateKey(pems.privateKey)
  const publicKey = createPublicKey(pems.publicKey)
  const alg = algorithmOf(publicKey, name)
  return {
    name,
    privatePem: pems.privateKey,
    publicPem: pems.publicKey,
    signer: {algorithm: alg, description: name, sign: async (d) => cryptoSign('sha256', d, alg === 'ES256' ? {key: privateKey, dsaEncoding: 'ieee-p1363'} : privateKey)},
    verifyKey: {name, path: `/keys/${name}`, key: publicKey, alg},
  }
}

export function verifyKeyFromPem(name: string, pem: string): VerifyKey {
  const key: KeyObject = createPublicKey(pem)
  return {name, path: `/keys/${name}`, key, alg: algorithmOf(key, name)}
}

/** A CA certificate for spiffe://example.org, as in a SPIRE trust bundle. */
export function bundlePem(trustDomain = 'example.org', count = 1): string {
  let out = ''
  for (let i = 0; i < count; i++) {
    const keys = forge.pki.rsa.generateKeyPair(1024)
    const cert = forge.pki.createCertificate()
    cert.publicKey = keys.publicKey
    cert.serialNumber = `0${i + 1}`
    cert.validity.notBefore = new Date(Date.now() - 3600_000)
    cert.validity.notAfter = new Date(Date.now() + 86_400_000)
    const attrs = [{name: 'countryName', value: 'US'}, {name: 'organizationName', value: 'SPIFFE'}]
    cert.setSubject(attrs)
    cert.setIssuer(attrs)
    cert.setExtensions([{name: 'basicConstraints', cA: true}, {name: 'subjectAltName', altNames: [{type: 6, value: `spiffe://${trustDomain}`}]}])
    cert.sign(keys.privateKey, forge.md.sha256.create())
    out += forge.pki.certificateToPem(cert)
  }
  return out
}

/** A token of len(signers) layers, signers innermost first. */
export async function nestedToken(bundle: string, signers: Signer[], opts: {ttlMs?: number; now?: number; issuers?: string[]} = {}): Promise<string> {
  const ttlMs = opts.ttlMs ?? 600_000
  let token = await createInnermostToken(bundle, {signer: signers[0]!, ttlMs, now: opts.now, issuer: opts.issuers?.[0] ?? 'server-0'})
  for (let i = 1; i < signers.length; i++) {
    token = await createNestedToken(token, {signer: signers[i]!, ttlMs, now: opts.now, issuer: opts.issuers?.[i] ?? `server-${i}`})
  }
  return token
}

/** Signs arbitrary header/payload JSON (to forge malformed or hostile tokens in tests). */
export async function rawToken(header: unknown, payload: unknown, signer: Signer | ((input: Buffer) => Buffer)): Promise<string> {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`
  const sig = typeof signer === 'function' ? signer(Buffer.from(input)) : await signer.sign(Buffer.from(input))
  return `${input}.${sig.toString('base64url')}`
}
