import {X509Certificate} from 'node:crypto'

import {BundleError} from './errors.js'

export interface CertificateInfo {
  subject: string
  spiffeIds: string[]
  notBefore: string
  notAfter: string
  fingerprintSha256: string
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

/**
 * Parsing X.509 costs ~100 us, more than the three signature checks of a token; a verifier sees the
 * same bundle text again and again, so parsed bundles are kept (bounded; results are immutable).
 */
const CACHE_MAX = 32
const cache = new Map<string, readonly CertificateInfo[]>()

/**
 * The certificates of a PEM trust bundle (as `spire-server bundle show -format pem` prints it).
 * At least one parseable X.509 certificate is required; every CERTIFICATE block must parse.
 */
export function parseBundle(pem: string, what = 'the bundle'): CertificateInfo[] {
  const hit = cache.get(pem)
  if (hit) return hit.map((c) => ({...c, spiffeIds: [...c.spiffeIds]}))
  const parsed = parseUncached(pem, what)
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string)
  cache.set(pem, parsed)
  return parsed.map((c) => ({...c, spiffeIds: [...c.spiffeIds]}))
}

function parseUncached(pem: string, what: string): CertificateInfo[] {
  const blocks = pem.match(PEM_CERT) ?? []
  if (blocks.length === 0) {
    throw new BundleError('NO_CERTIFICATE', `${what} holds no X.509 certificate (no "-----BEGIN CERTIFICATE-----" block)`, {
      suggestions: ['give the PEM that "spire-server bundle show -format pem" prints'],
    })
  }
  return blocks.map((block, i) => {
    let cert: X509Certificate
    try {
      cert = new X509Certificate(block)
    } catch (err) {
      throw new BundleError('NO_CERTIFICATE', `${what}: certificate ${i + 1} of ${blocks.length} does not parse (${(err as Error).message})`)
    }
    return {
      subject: cert.subject.replaceAll('\n', ', '),
      spiffeIds: (cert.subjectAltName ?? '')
        .split(', ')
        .filter((s) => s.startsWith('URI:spiffe://'))
        .map((s) => s.slice(4)),
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: new Date(cert.validTo).toISOString(),
      fingerprintSha256: cert.fingerprint256.replaceAll(':', '').toLowerCase(),
    }
  })
}
