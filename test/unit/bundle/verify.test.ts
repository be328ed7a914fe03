import {createHmac} from 'node:crypto'
import {beforeAll, describe, expect, it} from 'vitest'

import {inspectToken} from '../../../src/lib/bundle/inspect.js'
import {createInnermostToken} from '../../../src/lib/bundle/token.js'
import {verifyToken, type Keyset} from '../../../src/lib/bundle/verify.js'
import {bundlePem, nestedToken, rawToken, testKey, type TestKey} from '../../helpers/bundle-fixtures.js'

let A: TestKey, B: TestKey, C: TestKey, E: TestKey, BK: TestKey
let BUNDLE: string
beforeAll(() => {
  A = testKey('a.pem')
  B = testKey('b.pem')
  C = testKey('c.pem')
  E = testKey('e.pem', 'ec')
  BK = testKey('backup.pem')
  BUNDLE = bundlePem()
})

const ks = (chain: TestKey[], backup?: TestKey): Keyset => ({chain: chain.map((k) => k.verifyKey), ...(backup ? {backup: backup.verifyKey} : {})})
const fails = (fn: () => unknown, code: string, message: RegExp) => {
  let err: any
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err, 'expected a failure').toBeDefined()
  expect(err.code).toBe(code)
  expect(err.exitCode).toBe(code === 'CONFIG_INVALID' ? 2 : 6)
  expect(err.message).toMatch(message)
}

describe('round trips', () => {
  it.each([1, 2, 3])('%d layer(s), RSA', async (n) => {
    const keys = [A, B, C].slice(0, n)
    const token = await nestedToken(BUNDLE, keys.map((k) => k.signer))
    const r = verifyToken(token, ks(keys))
    expect(r.bundle).toBe(BUNDLE)
    expect(r.layers.map((l) => l.key)).toEqual(keys.map((k) => k.name))
    expect(r.layers.map((l) => l.issuer)).toEqual(keys.map((_k, i) => `server-${i}`))
    expect(r.backupUsed).toBe(false)
    expect(r.certificates[0]!.spiffeIds).toEqual(['spiffe://example.org'])
  })

  it('mixes RS256 and ES256 (P-256, 64-byte r||s signatures)', async () => {
    const token = await nestedToken(BUNDLE, [E.signer, A.signer, E.signer])
    const r = verifyToken(token, ks([E, A, E]))
    expect(r.layers.map((l) => l.alg)).toEqual(['ES256', 'RS256', 'ES256'])
    const sig = Buffer.from(token.split('.')[2]!, 'base64url')
    expect(sig).toHaveLength(64)
  })

  it.each([1, 2, 3])('the backup key stands in at layer %d of 3 (the innermost too)', async (pos) => {
    const signers = [A, B, C].map((k, i) => (i + 1 === pos ? BK.signer : k.signer))
    const r = verifyToken(await nestedToken(BUNDLE, signers), ks([A, B, C], BK))
    expect(r.backupUsed).toBe(true)
    expect(r.backupLayer).toBe(pos)
    expect(r.layers.find((l) => l.layer === pos)).toMatchObject({key: 'backup.pem', backup: true})
  })
})

describe('failures: exit 6 with the precise reason', () => {
  it('expired beyond the 5 s leeway, with by how much; accepted within it', async () => {
    const now = Math.floor(Date.now() / 1000) * 1000
    const token = await nestedToken(BUNDLE, [A.signer], {ttlMs: 60_000, now: now - 120_000})
    fails(() => verifyToken(token, ks([A]), {now}), 'EXPIRED', /layer 1 of 1: expired 1 min ago .*leeway 5 s/)
    // exp = now - 60 s: 4 s after exp is fine, 6 s after is not.
    const exp = Math.floor((now - 120_000) / 1000) + 60
    expect(verifyToken(token, ks([A]), {now: (exp + 4) * 1000}).layers[0]!.exp).toBe(exp)
    expect(verifyToken(token, ks([A]), {now: (exp + 5) * 1000}).bundle).toBe(BUNDLE)
    fails(() => verifyToken(token, ks([A]), {now: (exp + 6) * 1000}), 'EXPIRED', /expired 6 s ago/)
  })

  it('not yet valid beyond the leeway; accepted within it', async () => {
    const now = Math.floor(Date.now() / 1000) * 1000
    const token = await nestedToken(BUNDLE, [A.signer], {now: now + 60_000})
    fails(() => verifyToken(token, ks([A]), {now}), 'NOT_YET_VALID', /not valid for another 1 min/)
    const nbf = Math.floor((now + 60_000) / 1000)
    expect(verifyToken(token, ks([A]), {now: (nbf - 5) * 1000}).bundle).toBe(BUNDLE)
    fails(() => verifyToken(token, ks([A]), {now: (nbf - 6) * 1000}), 'NOT_YET_VALID', /another 6 s/)
  })

  it('iat in the future beyond the leeway', async () => {
    const now = Math.floor(Date.now() / 1000)
    const t = await rawToken({alg: 'RS256', typ: 'JWT'}, {spiffetb: BUNDLE, iss: 'x', iat: now + 30, exp: now + 600}, A.signer)
    fails(() => verifyToken(t, ks([A]), {now: now * 1000}), 'ISSUED_IN_FUTURE', /issued 30 s in the future/)
  })

  it.each([1, 2, 3])('the wrong key at layer %d names that layer and key', async (pos) => {
    const signers = [A, B, C].map((k, i) => (i + 1 === pos ? testKey('intruder').signer : k.signer))
    const token = await nestedToken(BUNDLE, signers)
    fails(() => verifyToken(token, ks([A, B, C])), 'SIGNATURE_INVALID', new RegExp(`layer ${pos} of 3.*does not verify with ${['a', 'b', 'c'][pos - 1]}\\.pem`))
  })

  it('the backup key serves only one layer', async () => {
    const token = await nestedToken(BUNDLE, [BK.signer, BK.signer])
    fails(() => verifyToken(token, ks([A, B], BK)), 'SIGNATURE_INVALID', /layer 1 of 2.*the backup key backup.pem was already used for layer 2/)
  })

  it('a chain in the wrong order fails at the outermost layer', async () => {
    const token = await nestedToken(BUNDLE, [A.signer, B.signer])
    fails(() => verifyToken(token, ks([B, A])), 'SIGNATURE_INVALID', /layer 2 of 2 \(outermost\): the signature does not verify with a.pem/)
  })

  it('missing spiffetb or jwt', async () => {
    const now = Math.floor(Date.now() / 1000)
    const noBundle = await rawToken({alg: 'RS256'}, {iss: 'x', iat: now, exp: now + 60}, A.signer)
    fails(() => verifyToken(noBundle, ks([A])), 'MISSING_CLAIM', /no "spiffetb" claim/)
    const noJwt = await rawToken({alg: 'RS256'}, {iss: 'x', iat: now, exp: now + 60}, B.signer)
    fails(() => verifyToken(noJwt, ks([A, B])), 'MISSING_CLAIM', /layer 2 of 2 \(outermost\): no "jwt" claim/)
  })

  it('more or fewer layers than the chain', async () => {
    const two = await nestedToken(BUNDLE, [A.signer, A.signer])
    fails(() => verifyToken(two, ks([A])), 'TOO_MANY_LAYERS', /more layers than the chain's 1 key/)
    const one = await nestedToken(BUNDLE, [A.signer])
    fails(() => verifyToken(one, ks([A, A])), 'TOO_FEW_LAYERS', /the token has 1 layer but the chain lists 2 keys/)
  })

  it('alg none, HS256 keyed with the public key bytes, and RS/ES mismatches are rejected', async () => {
    const now = Math.floor(Date.now() / 1000)
    const claims = {spiffetb: BUNDLE, iss: 'x', iat: now, exp: now + 60}
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`
    fails(() => verifyToken(none, ks([A])), 'ALG_REJECTED', /alg "none"/)
    const hs = await rawToken({alg: 'HS256'}, claims, (input) => createHmac('sha256', A.publicPem).update(input).digest())
    fails(() => verifyToken(hs, ks([A])), 'ALG_REJECTED', /HS256 \(HMAC\) is never accepted/)
    const esHeaderRsaKey = await rawToken({alg: 'ES256'}, claims, A.signer)
    fails(() => verifyToken(esHeaderRsaKey, ks([A])), 'SIGNATURE_INVALID', /alg ES256 does not fit a.pem \(RS256 key\)/)
    const rsHeaderEcKey = await rawToken({alg: 'RS256'}, claims, E.signer)
    fails(() => verifyToken(rsHeaderEcKey, ks([E])), 'SIGNATURE_INVALID', /alg RS256 does not fit e.pem \(ES256 key\)/)
    const ps = await rawToken({alg: 'PS256'}, claims, A.signer)
    fails(() => verifyToken(ps, ks([A])), 'ALG_REJECTED', /PS256 is not accepted/)
  })

  it('truncated, non-base64 and non-JSON parts', async () => {
    fails(() => verifyToken('x', ks([A])), 'TOKEN_MALFORMED', /not a JWS compact token \(1 part, expected 3\)/)
    const good = await nestedToken(BUNDLE, [A.signer])
    const [h, p, s] = good.split('.') as [string, string, string]
    fails(() => verifyToken(`${h}.${p}`, ks([A])), 'TOKEN_MALFORMED', /2 parts, expected 3/)
    fails(() => verifyToken(`${h}.${p}.${s.slice(0, 101)}`, ks([A])), 'TOKEN_MALFORMED', /signature is truncated/)
    fails(() => verifyToken(`${h}.${p.slice(0, -7)}.${s}`, ks([A])), 'TOKEN_MALFORMED', /payload is (not JSON|truncated)/)
    fails(() => verifyToken(`${h}.${p}!.${s}`, ks([A])), 'TOKEN_MALFORMED', /payload is not base64url/)
    fails(() => verifyToken(`${Buffer.from('not json').toString('base64url')}.${p}.${s}`, ks([A])), 'TOKEN_MALFORMED', /header is not JSON/)
    fails(() => verifyToken(`${Buffer.from('[1]').toString('base64url')}.${p}.${s}`, ks([A])), 'TOKEN_MALFORMED', /header is not a JSON object/)
  })

  it('a token over the size limit is rejected before parsing', () => {
    const huge = 'x'.repeat(1024 * 1024 + 1)
    fails(() => verifyToken(huge, ks([A])), 'TOKEN_TOO_LARGE', /1048577 bytes, over the 1048576-byte limit; not parsed/)
    fails(() => verifyToken('a.b.c', ks([A]), {maxBytes: 4}), 'TOKEN_TOO_LARGE', /over the 4-byte limit/)
  })

  it('a bundle with no certificate', async () => {
    const now = Math.floor(Date.now() / 1000)
    const t = await rawToken({alg: 'RS256'}, {spiffetb: 'hello', iss: 'x', iat: now, exp: now + 60}, A.signer)
    fails(() => verifyToken(t, ks([A])), 'NO_CERTIFICATE', /holds no X.509 certificate/)
    const bad = await rawToken({alg: 'RS256'}, {spiffetb: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', iss: 'x', iat: now, exp: now + 60}, A.signer)
    fails(() => verifyToken(bad, ks([A])), 'NO_CERTIFICATE', /certificate 1 of 1 does not parse/)
  })

  it('issuer pinning per layer, innermost first; - for any', async () => {
    const token = await nestedToken(BUNDLE, [A.signer, B.signer], {issuers: ['srv-a', 'srv-b']})
    expect(verifyToken(token, ks([A, B]), {issuers: ['srv-a', 'srv-b']}).bundle).toBe(BUNDLE)
    expect(verifyToken(token, ks([A, B]), {issuers: ['-', 'srv-b']}).bundle).toBe(BUNDLE)
    fails(() => verifyToken(token, ks([A, B]), {issuers: ['srv-x']}), 'ISSUER_MISMATCH', /layer 1 of 2 \(innermost\): issuer is "srv-a", expected "srv-x"/)
  })

  it('missing registered claims: exp, iat, iss', async () => {
    const now = Math.floor(Date.now() / 1000)
    const full = {spiffetb: BUNDLE, iss: 'x', iat: now, exp: now + 60}
    for (const claim of ['exp', 'iat', 'iss'] as const) {
      const {[claim]: _dropped, ...rest} = full
      const t = await rawToken({alg: 'RS256'}, rest, A.signer)
      fails(() => verifyToken(t, ks([A])), 'MISSING_CLAIM', new RegExp(`no "${claim}" claim`))
    }
    const t = await rawToken({alg: 'RS256'}, {...full, exp: 'tomorrow'}, A.signer)
    fails(() => verifyToken(t, ks([A])), 'TOKEN_MALFORMED', /claim "exp" is not a NumericDate/)
  })
})

describe('signing', () => {
  it('refuses a bundle without a certificate (exit 2)', async () => {
    await expect(createInnermostToken('not a bundle', {signer: A.signer, ttlMs: 1000})).rejects.toMatchObject({code: 'INVALID_BUNDLE', exitCode: 2})
  })

  it('writes the reference header and claims', async () => {
    const token = await nestedToken(BUNDLE, [A.signer, E.signer])
    const info = inspectToken(token)
    expect(info.verified).toBe(false)
    expect(info.layers[0]).toMatchObject({layer: 1, header: {alg: 'RS256', typ: 'JWT'}})
    expect(Object.keys(info.layers[0]!.claims!).sort()).toEqual(['exp', 'iat', 'iss', 'nbf', 'spiffetb'])
    expect(Object.keys(info.layers[1]!.claims!).sort()).toEqual(['exp', 'iat', 'iss', 'jwt', 'nbf'])
    expect(info.layers[1]!.header).toEqual({alg: 'ES256', typ: 'JWT'})
  })
})
