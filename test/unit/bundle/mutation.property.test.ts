import fc from 'fast-check'
import {beforeAll, describe, expect, it} from 'vitest'

import {isTrustctlError} from '../../../src/lib/core/errors.js'
import {verifyToken, type Keyset} from '../../../src/lib/bundle/verify.js'
import {bundlePem, nestedToken, testKey, type TestKey} from '../../helpers/bundle-fixtures.js'

let A: TestKey, E: TestKey, BK: TestKey
let TOKEN: string
let KEYSET: Keyset
beforeAll(async () => {
  A = testKey('a.pem')
  E = testKey('e.pem', 'ec')
  BK = testKey('backup.pem')
  TOKEN = await nestedToken(bundlePem(), [A.signer, E.signer])
  KEYSET = {chain: [A.verifyKey, E.verifyKey], backup: BK.verifyKey}
})

/** The property: a mutated token never verifies, and the only errors are trustctl's typed ones. */
function mustReject(token: string): void {
  if (token === TOKEN) return
  let threw: unknown
  try {
    verifyToken(token, KEYSET)
  } catch (err) {
    threw = err
  }
  expect(threw, `a mutated token verified: ${token.slice(0, 80)}…`).toBeDefined()
  expect(isTrustctlError(threw), `untyped exception escaped: ${String(threw)}`).toBe(true)
  expect((threw as {exitCode: number}).exitCode).toBe(6)
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
const parts = () => TOKEN.split('.') as [string, string, string]
const jsonOf = (p: string) => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>

describe('mutated tokens (fast-check)', () => {
  it('the unmutated token verifies (the property is not vacuous)', () => {
    expect(verifyToken(TOKEN, KEYSET).layers).toHaveLength(2)
  })

  it('single and multiple character changes anywhere', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}"'
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.constantFrom(...alphabet)), {minLength: 1, maxLength: 4}), (edits) => {
        const chars = [...TOKEN]
        for (const [pos, ch] of edits) chars[pos % chars.length] = ch
        mustReject(chars.join(''))
      }),
      {numRuns: 400},
    )
  })

  it('truncation, insertion and deletion', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat({max: 50}), fc.string({maxLength: 8}), (pos, del, ins) => {
        const p = pos % (TOKEN.length + 1)
        mustReject(TOKEN.slice(0, p) + ins + TOKEN.slice(p + del))
      }),
      {numRuns: 300},
    )
  })

  it('header changes with the original signature kept', () => {
    const [h, p, s] = parts()
    const header = jsonOf(h)
    fc.assert(
      fc.property(
        fc.record({
          alg: fc.constantFrom('none', 'None', 'HS256', 'HS512', 'RS256', 'ES256', 'RS384', 'PS256', '', 'EdDSA'),
          extra: fc.option(fc.constantFrom({crit: ['exp']}, {kid: 'x'}, {typ: 'JOSE'}, {jku: 'http://127.0.0.1/x'}), {nil: undefined}),
        }),
        ({alg, extra}) => {
          const changed = {...header, alg, ...extra}
          if (JSON.stringify(changed) === JSON.stringify(header)) return
          mustReject(`${b64(changed)}.${p}.${s}`)
        },
      ),
      {numRuns: 200},
    )
  })

  it('claim changes with the original signature kept', () => {
    const [h, p, s] = parts()
    const claims = jsonOf(p)
    fc.assert(
      fc.property(
        fc.constantFrom('iss', 'iat', 'nbf', 'exp', 'jwt', 'extra'),
        fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant(undefined), fc.boolean()),
        (key, value) => {
          const changed: Record<string, unknown> = {...claims, [key]: value}
          if (value === undefined) delete changed[key]
          if (JSON.stringify(changed) === JSON.stringify(claims)) return
          mustReject(`${h}.${b64(changed)}.${s}`)
        },
      ),
      {numRuns: 200},
    )
  })

  it('layers in another order, or signed by keys in another order, never verify', async () => {
    const bundle = bundlePem()
    const orders: TestKey[][] = [[E, A], [A, A], [E, E], [A], [E], [A, E, A], [BK, BK], [E, BK]]
    for (const signers of orders) {
      const token = await nestedToken(bundle, signers.map((k) => k.signer))
      let threw: unknown
      try {
        verifyToken(token, KEYSET)
      } catch (err) {
        threw = err
      }
      expect(threw, signers.map((k) => k.name).join(',')).toBeDefined()
      expect(isTrustctlError(threw)).toBe(true)
    }
    // Swapping the layers of the real token: the inner token presented as the outer one.
    const inner = jsonOf(parts()[1]).jwt as string
    mustReject(inner)
  })
})
