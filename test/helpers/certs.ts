import forge from 'node-forge'

export interface TestCert {
  certPem: string
  keyPem: string
}

/** A self-signed server certificate for 127.0.0.1 / localhost, made with node-forge (no openssl binary needed). */
export function selfSignedCert(commonName = 'localhost'): TestCert {
  const keys = forge.pki.rsa.generateKeyPair(2048)
  const cert = forge.pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8))
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000)
  const attrs = [{name: 'commonName', value: commonName}]
  cert.setSubject(attrs)
  cert.setIssuer(attrs)
  cert.setExtensions([
    {name: 'basicConstraints', cA: true},
    {name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true},
    {name: 'subjectAltName', altNames: [{type: 2, value: 'localhost'}, {type: 7, ip: '127.0.0.1'}]},
  ])
  cert.sign(keys.privateKey, forge.md.sha256.create())
  return {certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey)}
}
