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
 * The certificates of a PEM trust bundle (as `spire-server bundle show -format pem` prints it).
 * At least one parseable X.509 certificate is required; every CERTIFICATE block must parse.
 */
export function parseBundle(pem: string, what = 'the bundle'): CertificateInfo[] {
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
