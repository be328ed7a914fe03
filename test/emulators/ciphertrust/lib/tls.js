// A throwaway CA and a server certificate for 127.0.0.1 / localhost, made at start-up. node:crypto
// cannot write X.509 certificates, so node-forge (a project dependency) signs them; the RSA keys
// come from node:crypto because forge's pure-JS key generation is slow.
import {generateKeyPairSync, randomBytes} from 'node:crypto'

import forge from 'node-forge'

const DAY_MS = 86_400_000

function rsaKeyPair() {
  const {privateKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
  const pem = privateKey.export({type: 'pkcs1', format: 'pem'})
  const forgeKey = forge.pki.privateKeyFromPem(pem)
  return {pem, privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e)}
}

function certificate({subject, issuer, publicKey, signingKey, extensions}) {
  const cert = forge.pki.createCertificate()
  cert.publicKey = publicKey
  // A positive serial: the top bit of the first byte is cleared.
  cert.serialNumber = (randomBytes(16)[0] & 0x7f).toString(16).padStart(2, '0') + randomBytes(15).toString('hex')
  cert.validity.notBefore = new Date(Date.now() - DAY_MS)
  cert.validity.notAfter = new Date(Date.now() + 30 * DAY_MS)
  cert.setSubject([{name: 'commonName', value: subject}])
  cert.setIssuer([{name: 'commonName', value: issuer}])
  cert.setExtensions(extensions)
  cert.sign(signingKey, forge.md.sha256.create())
  return cert
}

/** {caPem, certPem, keyPem}: the server certificate is signed by the CA, so clients trust the CA only. */
export function makeTlsMaterial() {
  const ca = rsaKeyPair()
  const server = rsaKeyPair()
  const caName = 'CipherTrust Manager emulator test CA'
  const caCert = certificate({
    subject: caName,
    issuer: caName,
    publicKey: ca.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      {name: 'basicConstraints', cA: true, critical: true},
      {name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true},
      {name: 'subjectKeyIdentifier'},
    ],
  })
  const serverCert = certificate({
    subject: 'localhost',
    issuer: caName,
    publicKey: server.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      {name: 'basicConstraints', cA: false},
      {name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true},
      {name: 'extKeyUsage', serverAuth: true},
      // CN plus SANs: KES rejects a CM certificate that is "not valid for any names" (spec §10.3).
      {name: 'subjectAltName', altNames: [{type: 2, value: 'localhost'}, {type: 7, ip: '127.0.0.1'}, {type: 7, ip: '::1'}]},
    ],
  })
  return {caPem: forge.pki.certificateToPem(caCert), certPem: forge.pki.certificateToPem(serverCert), keyPem: server.pem}
}
