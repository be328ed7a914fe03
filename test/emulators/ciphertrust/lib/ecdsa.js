// ECDSA over a caller-supplied digest (hashAlgo=none). node:crypto always hashes what it signs,
// so this is plain BigInt arithmetic in Jacobian coordinates; it is checked against node's own
// verify in the tests. Signatures are DER SEQUENCE{r, s}, as CM returns them (spec §7.1).
import {randomBytes} from 'node:crypto'

/** Curve parameters (SEC 2 / FIPS 186-4) of the curves CM offers that hashAlgo=none supports here. */
const CURVES = {
  prime256v1: {
    p: 'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff',
    a: 'ffffffff00000001000000000000000000000000fffffffffffffffffffffffc',
    n: 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
    gx: '6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296',
    gy: '4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5',
  },
  secp384r1: {
    p: 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff',
    a: 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffc',
    n: 'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
    gx: 'aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7',
    gy: '3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f',
  },
  secp521r1: {
    p: '1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    a: '1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc',
    n: '1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
    gx: 'c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66',
    gy: '11839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650',
  },
  secp256k1: {
    p: 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f',
    a: '0',
    n: 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141',
    gx: '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
    gy: '483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8',
  },
}

const big = (hexText) => BigInt(`0x${hexText}`)
const fromBytes = (buf) => (buf.length === 0 ? 0n : BigInt(`0x${buf.toString('hex')}`))
const mod = (x, m) => ((x % m) + m) % m

function modPow(base, exp, m) {
  let result = 1n
  let b = mod(base, m)
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m
    b = (b * b) % m
  }
  return result
}

/** Inverse modulo a prime (Fermat). */
const inv = (x, m) => modPow(x, m - 2n, m)

export const supportsDigestSigning = (curveid) => Object.hasOwn(CURVES, curveid)

function curve(curveid) {
  const c = CURVES[curveid]
  return {p: big(c.p), a: big(c.a), n: big(c.n), g: {x: big(c.gx), y: big(c.gy), z: 1n}}
}

// Points are {x, y, z} in Jacobian coordinates; null is the point at infinity.

function double(P, {p, a}) {
  if (!P || P.y === 0n) return null
  const yy = (P.y * P.y) % p
  const s = (4n * P.x * yy) % p
  const zz = (P.z * P.z) % p
  const m = mod(3n * P.x * P.x + a * zz * zz, p)
  const x = mod(m * m - 2n * s, p)
  return {x, y: mod(m * (s - x) - 8n * yy * yy, p), z: (2n * P.y * P.z) % p}
}

function add(P, Q, c) {
  if (!P) return Q
  if (!Q) return P
  const {p} = c
  const z1z1 = (P.z * P.z) % p
  const z2z2 = (Q.z * Q.z) % p
  const u1 = (P.x * z2z2) % p
  const u2 = (Q.x * z1z1) % p
  const s1 = (P.y * Q.z * z2z2) % p
  const s2 = (Q.y * P.z * z1z1) % p
  if (u1 === u2) return s1 === s2 ? double(P, c) : null
  const h = mod(u2 - u1, p)
  const r = mod(s2 - s1, p)
  const hh = (h * h) % p
  const hhh = (h * hh) % p
  const x = mod(r * r - hhh - 2n * u1 * hh, p)
  return {x, y: mod(r * (u1 * hh - x) - s1 * hhh, p), z: (h * P.z * Q.z) % p}
}

function multiply(k, P, c) {
  let result = null
  for (let i = BigInt(k.toString(2).length) - 1n; i >= 0n; i--) {
    result = double(result, c)
    if ((k >> i) & 1n) result = add(result, P, c)
  }
  return result
}

const affineX = (P, {p}) => (P.x * inv((P.z * P.z) % p, p)) % p

/** The digest as an integer, truncated to the order's bit length (FIPS 186-4 §6.4). */
function digestInt(digest, n) {
  const excess = digest.length * 8 - n.toString(2).length
  const z = fromBytes(digest)
  return excess > 0 ? z >> BigInt(excess) : z
}

function derInteger(x) {
  let bytes = Buffer.from(x.toString(16).padStart(2 * Math.ceil(x.toString(16).length / 2), '0'), 'hex')
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes])
  return Buffer.concat([Buffer.from([0x02]), derLength(bytes.length), bytes])
}

const derLength = (len) => (len < 0x80 ? Buffer.from([len]) : Buffer.from([0x81, len]))

function derSignature(r, s) {
  const body = Buffer.concat([derInteger(r), derInteger(s)])
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body])
}

/** Reads DER SEQUENCE{INTEGER r, INTEGER s}; undefined when it is not one. */
function parseDerSignature(der) {
  let at = 0
  const readLength = () => {
    const first = der[at++]
    if (first < 0x80) return first
    if (first !== 0x81) return -1
    return der[at++]
  }
  if (der[at++] !== 0x30 || readLength() !== der.length - at) return undefined
  const ints = []
  for (let i = 0; i < 2; i++) {
    if (der[at++] !== 0x02) return undefined
    const len = readLength()
    if (len <= 0 || at + len > der.length) return undefined
    ints.push(fromBytes(der.subarray(at, at + len)))
    at += len
  }
  return at === der.length ? ints : undefined
}

/** Signs a digest with the private scalar of a JWK-exported EC key. */
export function signDigest(curveid, privateJwk, digest) {
  const c = curve(curveid)
  const d = fromBytes(Buffer.from(privateJwk.d, 'base64url'))
  const z = digestInt(digest, c.n)
  // 64 extra random bits make the reduction modulo n unbiased enough.
  const nonceBytes = Math.ceil(c.n.toString(16).length / 2) + 8
  for (;;) {
    const k = mod(fromBytes(randomBytes(nonceBytes)), c.n - 1n) + 1n
    const r = affineX(multiply(k, c.g, c), c) % c.n
    const s = (inv(k, c.n) * (z + r * d)) % c.n
    if (r !== 0n && s !== 0n) return derSignature(r, s)
  }
}

/** Verifies a DER signature over a digest against a JWK-exported EC public key. */
export function verifyDigest(curveid, publicJwk, digest, der) {
  const c = curve(curveid)
  const rs = parseDerSignature(der)
  if (!rs) return false
  const [r, s] = rs
  if (r <= 0n || r >= c.n || s <= 0n || s >= c.n) return false
  const q = {x: fromBytes(Buffer.from(publicJwk.x, 'base64url')), y: fromBytes(Buffer.from(publicJwk.y, 'base64url')), z: 1n}
  const w = inv(s, c.n)
  const point = add(multiply((digestInt(digest, c.n) * w) % c.n, c.g, c), multiply((r * w) % c.n, q, c), c)
  return point !== null && affineX(point, c) % c.n === r
}
