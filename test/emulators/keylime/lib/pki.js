// Certificates as Keylime's verifier generates them in cv_ca/ (spec §3.1): a CA, a server
// certificate named "server" and a client certificate named "client" (CN and SAN DNS, no EKU), plus
// a client certificate from an unrelated CA that must be refused, and the agents' self-signed mTLS
// certificates (CN = agent UUID, SAN IP = contact IP; spec §2.1).
//
// node:crypto cannot write X.509, so node-forge builds the certificates; the signatures are made with
// node:crypto because forge's pure-JS RSA is ~50x slower, and a fleet of mTLS agents needs one
// certificate each.
import {generateKeyPair, randomBytes, sign} from 'node:crypto'
import {promisify} from 'node:util'

import forge from 'node-forge'

const DAY_MS = 86_400_000
const SHA256_WITH_RSA = forge.pki.oids.sha256WithRSAEncryption

async function rsaKey() {
  const {privateKey, publicKey} = await promisify(generateKeyPair)('rsa', {modulusLength: 2048})
  return {privateKey, keyPem: privateKey.export({type: 'pkcs8', format: 'pem'}), forgePublic: forge.pki.publicKeyFromPem(publicKey.export({type: 'spki', format: 'pem'}))}
}

function signNatively(cert, signer) {
  cert.siginfo.algorithmOid = SHA256_WITH_RSA
  cert.signatureOid = SHA256_WITH_RSA
  const tbs = forge.asn1.toDer(forge.pki.getTBSCertificate(cert)).getBytes()
  cert.signature = sign('sha256', Buffer.from(tbs, 'binary'), signer.privateKey).toString('binary')
}

function certificate({subject, issuer, key, signer, extensions}) {
  const cert = forge.pki.createCertificate()
  cert.publicKey = key.forgePublic
  // A positive serial: the top bit of the first byte is cleared.
  cert.serialNumber = (randomBytes(1)[0] & 0x7f).toString(16).padStart(2, '0') + randomBytes(15).toString('hex')
  cert.validity.notBefore = new Date(Date.now() - DAY_MS)
  cert.validity.notAfter = new Date(Date.now() + 365 * DAY_MS)
  cert.setSubject([{name: 'commonName', value: subject}])
  cert.setIssuer([{name: 'commonName', value: issuer}])
  cert.setExtensions(extensions)
  signNatively(cert, signer)
  return forge.pki.certificateToPem(cert)
}

const CA_EXTENSIONS = [
  {name: 'basicConstraints', cA: true, critical: true},
  {name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true},
  {name: 'subjectKeyIdentifier'},
]

/** Keylime's mk_signed_cert: CN and SAN DNS both the bare name ("server", "client"), no EKU. */
function leaf(name, ca, caName, key) {
  const extensions = [
    {name: 'basicConstraints', cA: false},
    {name: 'keyUsage', digitalSignature: true, keyEncipherment: true},
    {name: 'subjectAltName', altNames: [{type: 2, value: name}]},
  ]
  return {certPem: certificate({subject: name, issuer: caName, key, signer: ca, extensions}), keyPem: key.keyPem}
}

/**
 * All TLS material of one emulator. One RSA key is shared by every agent's self-signed certificate:
 * generating 2,000 RSA keys would take minutes, and nothing in Keylime depends on agents having
 * distinct TLS keys (clients pin the whole certificate from the registrar, spec §2.1).
 */
export async function makePki() {
  const [caKey, otherCaKey, serverKey, clientKey, otherClientKey, agentKey] = await Promise.all(Array.from({length: 6}, rsaKey))
  const caName = 'Keylime emulator CA'
  const otherCaName = 'Unrelated CA'
  return {
    ca: {certPem: certificate({subject: caName, issuer: caName, key: caKey, signer: caKey, extensions: CA_EXTENSIONS})},
    server: leaf('server', caKey, caName, serverKey),
    client: leaf('client', caKey, caName, clientKey),
    otherClient: leaf('client', otherCaKey, otherCaName, otherClientKey),
    agentKey,
  }
}

/** The rust agent's generated certificate: self-signed, CN = UUID, SAN IP = contact_ip. */
export function agentCertificate(pki, uuid, ip) {
  const extensions = [
    {name: 'basicConstraints', cA: false},
    {name: 'keyUsage', digitalSignature: true, keyEncipherment: true},
    {name: 'subjectAltName', altNames: [{type: 7, ip}]},
  ]
  return certificate({subject: uuid, issuer: uuid, key: pki.agentKey, signer: pki.agentKey, extensions})
}
