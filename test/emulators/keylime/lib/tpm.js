// An emulated TPM per agent: an ECC P-256 attestation key (AK), an endorsement key (EK) and the
// agent's payload key (NK), and identity quotes in Keylime's wire format (spec §2.4):
//
//   "r" + b64(TPMS_ATTEST) + ":" + b64(TPMT_SIGNATURE) + ":" + b64(pcr blob)
//
// TPMS_ATTEST and TPMT_SIGNATURE are TPM-marshalled (big-endian); the pcr blob is tpm2-tools'
// little-endian C-struct layout. The quote covers PCR16, extended with a digest of the NK, and
// carries the nonce as qualifying data. checkQuote() is the verifier side (spec §3.5).
//
// INFERRED: ECC keys (sign_alg "ecdsa", enc_alg "ecc") rather than the common RSA AK: a P-256 key
// takes ~30 µs to generate, an RSA-2048 one ~100 ms, and fleets have thousands of agents.
import {createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify} from 'node:crypto'

const TPM_GENERATED_VALUE = 0xff544347
const TPM_ST_ATTEST_QUOTE = 0x8018
const ALG = {sha1: 0x0004, aes: 0x0006, sha256: 0x000b, sha384: 0x000c, sha512: 0x000d, null: 0x0010, sm3_256: 0x0012, ecdsa: 0x0018, ecc: 0x0023, cfb: 0x0043}
const DIGEST_SIZE = {[ALG.sha1]: 20, [ALG.sha256]: 32, [ALG.sha384]: 48, [ALG.sha512]: 64}
const NODE_HASH = {[ALG.sha1]: 'sha1', [ALG.sha256]: 'sha256', [ALG.sha384]: 'sha384', [ALG.sha512]: 'sha512'}
const TPM_ECC_NIST_P256 = 0x0003
/** fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | restricted | sign */
const AK_ATTRIBUTES = 0x00050072
/** fixedTPM | fixedParent | sensitiveDataOrigin | adminWithPolicy | restricted | decrypt (EK template L-2) */
const EK_ATTRIBUTES = 0x000300b2
const EK_POLICY = Buffer.from('837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa', 'hex')
const IDENTITY_PCR = 16

/** Hash names the verifier recognises (keylime.common.algorithms.Hash, spec §2.3). */
export const RECOGNISED_HASHES = ['sha1', 'sha256', 'sha384', 'sha512', 'sm3_256']

// ---- marshalling

const u8 = (n) => Buffer.from([n])
const u16 = (n) => Buffer.from([n >> 8, n & 0xff])
function u32(n) {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}
function u64(n) {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(BigInt(n))
  return b
}
const tpm2b = (buf) => Buffer.concat([u16(buf.length), buf])
const sha256 = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest()

/** A truncated or inconsistent structure in a quote: the verifier reports it as a failed check. */
class QuoteError extends Error {}

class Reader {
  constructor(buf, what) {
    this.buf = buf
    this.what = what
    this.at = 0
  }

  take(n) {
    if (this.at + n > this.buf.length) throw new QuoteError(`${this.what} is truncated`)
    this.at += n
    return this.buf.subarray(this.at - n, this.at)
  }

  u8() {
    return this.take(1)[0]
  }

  u16() {
    return this.take(2).readUInt16BE()
  }

  u32() {
    return this.take(4).readUInt32BE()
  }

  tpm2b() {
    return this.take(this.u16())
  }

  end() {
    if (this.at !== this.buf.length) throw new QuoteError(`${this.what} has ${this.buf.length - this.at} trailing bytes`)
  }
}

// ---- keys

function eccPoint(publicKey) {
  const {x, y} = publicKey.export({format: 'jwk'})
  return Buffer.concat([tpm2b(Buffer.from(x, 'base64url')), tpm2b(Buffer.from(y, 'base64url'))])
}

/** TPMT_PUBLIC of the restricted ECDSA-SHA256 signing AK. */
function akPublicArea(publicKey) {
  const parms = Buffer.concat([u16(ALG.null), u16(ALG.ecdsa), u16(ALG.sha256), u16(TPM_ECC_NIST_P256), u16(ALG.null)])
  return Buffer.concat([u16(ALG.ecc), u16(ALG.sha256), u32(AK_ATTRIBUTES), tpm2b(Buffer.alloc(0)), parms, eccPoint(publicKey)])
}

/** TPMT_PUBLIC of an ECC EK made from the TCG default template (AES-128-CFB storage parent). */
function ekPublicArea(publicKey) {
  const parms = Buffer.concat([u16(ALG.aes), u16(128), u16(ALG.cfb), u16(ALG.null), u16(TPM_ECC_NIST_P256), u16(ALG.null)])
  return Buffer.concat([u16(ALG.ecc), u16(ALG.sha256), u32(EK_ATTRIBUTES), tpm2b(EK_POLICY), parms, eccPoint(publicKey)])
}

// Keys come out of the generator encoded and are re-imported: Node 20 can deadlock when a key
// object still shared with its (garbage) key-generation job is exported while GC finalises that job.
function p256() {
  const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256', privateKeyEncoding: {type: 'pkcs8', format: 'der'}, publicKeyEncoding: {type: 'spki', format: 'der'}})
  return {privateKey: createPrivateKey({key: privateKey, format: 'der', type: 'pkcs8'}), publicKey: createPublicKey({key: publicKey, format: 'der', type: 'spki'}), publicDer: publicKey}
}

/** Only the public half (EK, NK): importing a private key costs more than generating it. */
function p256Public() {
  const {publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256', privateKeyEncoding: {type: 'pkcs8', format: 'der'}, publicKeyEncoding: {type: 'spki', format: 'der'}})
  return {publicKey: createPublicKey({key: publicKey, format: 'der', type: 'spki'}), publicDer: publicKey}
}

function derToPem(der, label) {
  return `-----BEGIN ${label}-----\n${der.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END ${label}-----\n`
}

/** A fresh TPM: keys plus what the registrar stores (aik_tpm, ek_tpm: base64 TPM2B_PUBLIC). */
export function createTpm() {
  const ak = p256()
  const akArea = akPublicArea(ak.publicKey)
  const nkDer = p256Public().publicDer
  return {
    akPrivate: ak.privateKey,
    akName: Buffer.concat([u16(ALG.sha256), sha256(akArea)]),
    aikTpm: tpm2b(akArea).toString('base64'),
    ekTpm: tpm2b(ekPublicArea(p256Public().publicKey)).toString('base64'),
    nkPem: derToPem(nkDer, 'PUBLIC KEY'),
    // PCR16 after the agent resets it and extends it with the NK digest (spec §2.4).
    pcr16: sha256(Buffer.alloc(32), sha256(nkDer)),
  }
}

/** The AK public key from a registrar/verifier `aik_tpm` (only the ECC layout createTpm() writes). */
export function akFromAikTpm(aikTpm) {
  const outer = new Reader(Buffer.from(aikTpm, 'base64'), 'aik_tpm')
  const area = new Reader(outer.tpm2b(), 'aik_tpm public area')
  outer.end()
  if (area.u16() !== ALG.ecc) throw new QuoteError('aik_tpm is not an ECC key')
  area.take(2 + 4) // nameAlg, objectAttributes
  area.tpm2b() // authPolicy
  if (area.u16() !== ALG.null) throw new QuoteError('aik_tpm has a symmetric algorithm: not a signing key')
  if (area.u16() !== ALG.ecdsa) throw new QuoteError('aik_tpm is not an ECDSA key')
  area.u16() // scheme hash
  if (area.u16() !== TPM_ECC_NIST_P256) throw new QuoteError('aik_tpm is not on NIST P-256')
  area.u16() // kdf
  const x = area.tpm2b()
  const y = area.tpm2b()
  area.end()
  return createPublicKey({key: {kty: 'EC', crv: 'P-256', x: x.toString('base64url'), y: y.toString('base64url')}, format: 'jwk'})
}

// ---- quotes

/** TPML_PCR_SELECTION (TPM order): one sha256 bank selecting PCR16. */
const identitySelection = () => Buffer.concat([u32(1), u16(ALG.sha256), u8(3), Buffer.from([0, 0, 1 << (IDENTITY_PCR % 8)])])

/** tpm2-tools' `tpm2_quote -o` layout: TPML_PCR_SELECTION struct, u32 n, n × TPML_DIGEST struct. */
function pcrBlob(pcr16) {
  const selection = Buffer.alloc(4 + 16 * 8)
  selection.writeUInt32LE(1, 0)
  selection.writeUInt16LE(ALG.sha256, 4)
  selection[6] = 3 // sizeofSelect
  selection[7 + Math.floor(IDENTITY_PCR / 8)] = 1 << (IDENTITY_PCR % 8)
  const digests = Buffer.alloc(4 + 8 * 66)
  digests.writeUInt32LE(1, 0)
  digests.writeUInt16LE(pcr16.length, 4)
  pcr16.copy(digests, 6)
  const count = Buffer.alloc(4)
  count.writeUInt32LE(1)
  return Buffer.concat([selection, count, digests])
}

/** TPM2_Quote over PCR16 with the nonce's bytes as qualifying data, signed by the AK. */
export function makeQuote(tpm, nonce, clockMs) {
  const attest = Buffer.concat([
    u32(TPM_GENERATED_VALUE),
    u16(TPM_ST_ATTEST_QUOTE),
    tpm2b(tpm.akName),
    tpm2b(Buffer.from(nonce, 'utf8')),
    u64(clockMs), u32(0), u32(0), u8(1), // TPMS_CLOCK_INFO: clock, resetCount, restartCount, safe
    u64(0x0002_0000_0000_0000n), // firmwareVersion
    identitySelection(),
    tpm2b(sha256(tpm.pcr16)),
  ])
  const rs = sign('sha256', attest, {key: tpm.akPrivate, dsaEncoding: 'ieee-p1363'})
  const signature = Buffer.concat([u16(ALG.ecdsa), u16(ALG.sha256), tpm2b(rs.subarray(0, 32)), tpm2b(rs.subarray(32))])
  return `r${attest.toString('base64')}:${signature.toString('base64')}:${pcrBlob(tpm.pcr16).toString('base64')}`
}

function strictBase64(text, what) {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) throw new QuoteError(`${what} is not valid base64`)
  return Buffer.from(text, 'base64')
}

/** keylime's _get_quote_parameters: strip the "r", split on ":", at least 3 tokens. */
function splitQuote(quote) {
  if (!quote.startsWith('r')) throw new QuoteError('quote does not start with "r"')
  const tokens = quote.slice(1).split(':')
  if (tokens.length < 3) throw new QuoteError(`quote has ${tokens.length} ":"-separated parts, expected 3`)
  return {attest: strictBase64(tokens[0], 'TPMS_ATTEST'), signature: strictBase64(tokens[1], 'TPMT_SIGNATURE'), pcrs: strictBase64(tokens[2], 'pcr blob')}
}

/** Banks and PCR indexes of a TPML_PCR_SELECTION, as [{hash, pcrs: [i, …]}]. */
function readSelection(r) {
  const banks = []
  for (let n = r.u32(); n > 0; n--) {
    const hash = r.u16()
    const mask = r.take(r.u8())
    const pcrs = []
    for (let i = 0; i < mask.length * 8; i++) if (mask[i >> 3] & (1 << (i & 7))) pcrs.push(i)
    banks.push({hash, pcrs})
  }
  return banks
}

function parseAttest(buf) {
  const r = new Reader(buf, 'TPMS_ATTEST')
  if (r.u32() !== TPM_GENERATED_VALUE) throw new QuoteError('TPMS_ATTEST magic is not TPM_GENERATED_VALUE')
  if (r.u16() !== TPM_ST_ATTEST_QUOTE) throw new QuoteError('TPMS_ATTEST is not a quote')
  r.tpm2b() // qualifiedSigner
  const extraData = r.tpm2b()
  r.take(17 + 8) // clockInfo, firmwareVersion
  const selection = readSelection(r)
  const pcrDigest = r.tpm2b()
  r.end()
  return {extraData, selection, pcrDigest}
}

function parseSignature(buf) {
  const r = new Reader(buf, 'TPMT_SIGNATURE')
  if (r.u16() !== ALG.ecdsa) throw new QuoteError('signature algorithm is not ECDSA, the AK scheme')
  const hash = r.u16()
  if (!NODE_HASH[hash]) throw new QuoteError(`unsupported signature hash 0x${hash.toString(16)}`)
  const part = (v) => Buffer.concat([Buffer.alloc(Math.max(0, 32 - v.length)), v]).subarray(-32)
  const rs = Buffer.concat([part(r.tpm2b()), part(r.tpm2b())])
  r.end()
  return {hash, rs}
}

/** PCR values of the little-endian pcr blob, in selection order, as [{hash, pcr, value}]. */
function parsePcrBlob(buf) {
  if (buf.length < 4 + 16 * 8 + 4) throw new QuoteError('pcr blob is truncated')
  const count = buf.readUInt32LE(0)
  if (count > 16) throw new QuoteError('pcr blob selects more than 16 banks')
  const slots = []
  for (let i = 0; i < count; i++) {
    const at = 4 + i * 8
    const mask = buf.subarray(at + 3, at + 3 + Math.min(buf[at + 2], 4))
    for (let p = 0; p < mask.length * 8; p++) if (mask[p >> 3] & (1 << (p & 7))) slots.push({hash: buf.readUInt16LE(at), pcr: p})
  }
  const lists = buf.readUInt32LE(132)
  if (buf.length !== 136 + lists * 532) throw new QuoteError('pcr blob size does not match its digest count')
  const values = []
  for (let l = 0; l < lists; l++) {
    const base = 136 + l * 532
    for (let d = 0; d < buf.readUInt32LE(base); d++) {
      const at = base + 4 + d * 66
      values.push(buf.subarray(at + 2, at + 2 + Math.min(buf.readUInt16LE(at), 64)))
    }
  }
  if (values.length !== slots.length) throw new QuoteError('pcr blob has a different number of values than selected PCRs')
  return slots.map((slot, i) => ({...slot, value: values[i]}))
}

/**
 * The verifier's identity check (spec §3.5): signature with the stored AK, nonce = qualifying data,
 * and the PCR values of the requested bank digest to the signed pcrDigest. Returns undefined when
 * valid, else the error text. PCR *values* against a policy are not checked (skip_pcr_check).
 */
export function checkQuote(akPublic, quote, nonce, hashAlg) {
  try {
    const parts = splitQuote(quote)
    const attest = parseAttest(parts.attest)
    const signature = parseSignature(parts.signature)
    if (!verify(NODE_HASH[signature.hash], parts.attest, {key: akPublic, dsaEncoding: 'ieee-p1363'}, signature.rs)) {
      throw new QuoteError('the quote signature does not verify with the agent AK')
    }
    if (!attest.extraData.equals(Buffer.from(nonce, 'utf8'))) throw new QuoteError('the nonce in the quote does not match the expected nonce')
    checkPcrDigest(attest, parsePcrBlob(parts.pcrs), signature.hash, hashAlg)
    return undefined
  } catch (err) {
    if (err instanceof QuoteError) return err.message
    throw err
  }
}

function checkPcrDigest(attest, values, signHash, hashAlg) {
  const selected = attest.selection.flatMap(({hash, pcrs}) => pcrs.map((pcr) => ({hash, pcr})))
  if (selected.length !== values.length || selected.some((s, i) => s.hash !== values[i].hash || s.pcr !== values[i].pcr)) {
    throw new QuoteError('the pcr blob does not match the PCR selection of the quote')
  }
  if (!values.some((v) => v.hash === ALG[hashAlg])) throw new QuoteError(`the quote has no PCR in the ${hashAlg} bank`)
  if (values.some((v) => v.value.length !== DIGEST_SIZE[v.hash])) throw new QuoteError('a PCR value has the wrong size for its bank')
  const digest = createHash(NODE_HASH[signHash]).update(Buffer.concat(values.map((v) => v.value))).digest()
  if (!digest.equals(attest.pcrDigest)) throw new QuoteError('the PCR values do not match the pcrDigest signed in the quote')
}
