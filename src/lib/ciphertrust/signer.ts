import type {Signer} from '../bundle/keys.js'
import type {CtmClient} from './client.js'
import {CtmError} from './errors.js'
import {getKey} from './keys.js'

/** ECDSA DER SEQUENCE{INTEGER r, INTEGER s} -> the fixed-size r||s form JWS ES256 uses. */
export function derToJose(der: Buffer, size = 32): Buffer {
  let o = 0
  const expect = (tag: number) => {
    if (der[o] !== tag) throw new CtmError('INVALID_RESPONSE', 'CipherTrust Manager returned an ECDSA signature that is not DER')
    o++
    let len = der[o++] as number
    if (len & 0x80) {
      const n = len & 0x7f
      len = 0
      for (let i = 0; i < n; i++) len = (len << 8) | (der[o++] as number)
    }
    if (o + len > der.length) throw new CtmError('INVALID_RESPONSE', 'CipherTrust Manager returned a truncated ECDSA signature')
    return len
  }
  expect(0x30)
  const int = () => {
    const len = expect(0x02)
    let v = der.subarray(o, o + len)
    o += len
    while (v.length > size && v[0] === 0) v = v.subarray(1)
    if (v.length > size) throw new CtmError('INVALID_RESPONSE', 'ECDSA signature integer too large for P-256')
    return Buffer.concat([Buffer.alloc(size - v.length), v])
  }
  return Buffer.concat([int(), int()])
}

/** Signs bundle-token layers with a key kept in CipherTrust Manager (/api/v1/crypto/sign). */
export async function ctmSigner(c: CtmClient, keyName: string): Promise<Signer> {
  const key = await getKey(c, keyName)
  const alg = (key.algorithm ?? '').toUpperCase()
  let jwsAlg: 'ES256' | 'RS256'
  if (alg === 'EC') {
    if (key.curveid && key.curveid !== 'prime256v1') throw new CtmError('BAD_REQUEST', `key ${keyName} is on ${key.curveid}; ES256 needs prime256v1 (P-256)`)
    jwsAlg = 'ES256'
  } else if (alg === 'RSA') {
    jwsAlg = 'RS256'
  } else {
    throw new CtmError('BAD_REQUEST', `key ${keyName} is ${key.algorithm ?? 'of unknown algorithm'}; only EC P-256 and RSA keys can sign tokens`)
  }
  return {
    algorithm: jwsAlg,
    description: `CipherTrust key ${keyName}`,
    async sign(data) {
      const res = await c.post<{data: string}>('/api/v1/crypto/sign', `sign with ${keyName}`, {
        body: Buffer.from(data),
        searchParams: {keyName: key.name, hashAlgo: 'SHA-256', signAlgo: jwsAlg === 'ES256' ? 'ECDSA' : 'RSA'},
        headers: {'content-type': 'application/octet-stream'},
      })
      if (typeof res?.data !== 'string' || !/^[0-9a-f]+$/i.test(res.data)) throw new CtmError('INVALID_RESPONSE', `sign with ${keyName}: no hex signature in the response`)
      const raw = Buffer.from(res.data, 'hex')
      return jwsAlg === 'ES256' ? derToJose(raw) : raw
    },
  }
}
