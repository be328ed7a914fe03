import {generateKeyPairSync, sign, verify} from 'node:crypto'
import {describe, expect, it} from 'vitest'

import {ctmErrorFor} from '../../../src/lib/ciphertrust/errors.js'
import {pluginLabelFilter, staleKeys, toRow} from '../../../src/lib/ciphertrust/keys.js'
import {derToJose} from '../../../src/lib/ciphertrust/signer.js'
import {validatePolicyBody} from '../../../src/lib/ciphertrust/validate.js'

const SID = 'f2554a90-8ce7-4d73-9788-cf842e31c4ef'

describe('ECDSA DER -> JWS r||s', () => {
  it('matches node\'s own IEEE P1363 encoding and verifies, over many signatures (leading zeros included)', () => {
    const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
    for (let i = 0; i < 200; i++) {
      const data = Buffer.from(`message ${i}`)
      const der = sign('sha256', data, privateKey)
      const jose = derToJose(der)
      expect(jose).toHaveLength(64)
      expect(verify('sha256', data, {key: publicKey, dsaEncoding: 'ieee-p1363'}, jose)).toBe(true)
    }
  })

  it('rejects what is not DER', () => {
    expect(() => derToJose(Buffer.alloc(64, 1))).toThrow(/not DER/)
    // A SEQUENCE whose first INTEGER claims 32 bytes but the data ends after 3.
    expect(() => derToJose(Buffer.from([0x30, 0x06, 0x02, 0x20, 1, 2, 3]))).toThrow(/truncated/)
  })
})

describe("the plugin's keys", () => {
  it('builds the labels filter the plugin uses', () => {
    expect(pluginLabelFilter({serverId: SID, trustDomain: 'example.org'})).toBe(`spire-server-td=20116dfd6774a9e7b32eddfea3f6cb094e38fc3f,spire-server-id=${SID},spire-active=true`)
    expect(pluginLabelFilter({trustDomain: 'example.org', all: true})).toBe('spire-server-td=20116dfd6774a9e7b32eddfea3f6cb094e38fc3f')
  })

  it('reads name, SPIRE key id and last update from a key object', () => {
    const row = toRow({id: 'k1', name: `spire-key-${SID}-JWT-Signer-B`, version: 2, state: 'Active', labels: {'spire-server-id': SID, 'spire-active': 'true', 'spire-last-update': '1700000000'}})
    expect(row).toMatchObject({spireKeyId: 'JWT-Signer-B', serverId: SID, version: 2, active: true, lastUpdate: '2023-11-14T22:13:20.000Z'})
  })

  it('stale = inactive, or not updated within the window; destroyed keys are done', () => {
    const now = Date.parse('2026-11-24T00:00:00Z')
    const day = 86_400
    const mk = (name: string, labels: Record<string, string>, state = 'Active') => toRow({id: name, name, state, labels: {'spire-server-id': SID, ...labels}})
    const rows = [
      mk('fresh', {'spire-active': 'true', 'spire-last-update': String(now / 1000 - 2 * day)}),
      mk('old', {'spire-active': 'true', 'spire-last-update': String(now / 1000 - 15 * day)}),
      mk('inactive', {'spire-active': 'false', 'spire-last-update': String(now / 1000)}),
      mk('gone', {'spire-active': 'false'}, 'Destroyed'),
    ]
    expect(staleKeys(rows, '14d', now).map((k) => k.name)).toEqual(['old', 'inactive'])
    expect(staleKeys(rows, '30d', now).map((k) => k.name)).toEqual(['inactive'])
  })
})

describe('errors and inputs', () => {
  it.each([
    [401, 'AUTH_FAILED', 4],
    [403, 'FORBIDDEN', 4],
    [404, 'NOT_FOUND', 3],
    [409, 'CONFLICT', 8],
    [422, 'BAD_REQUEST', 2],
    [503, 'UNAVAILABLE', 7],
  ] as const)('HTTP %d is %s (exit %d), with the CM message', (status, code, exit) => {
    const e = ctmErrorFor(status, {code: 15, codeDesc: 'NCERRBadRequest: Bad HTTP request', message: 'product name cannot be empty'}, 'create group')
    expect(e).toMatchObject({code, exitCode: exit})
    expect(e.message).toContain('product name cannot be empty')
  })

  it('a plain-text 401 body is used as is', () => {
    expect(ctmErrorFor(401, 'Unauthorized\n', 'list').message).toContain('Unauthorized')
  })

  it('policy files: name, actions, lower-case resources', () => {
    expect(() => validatePolicyBody({name: 'p', actions: ['ReadKey'], resources: ['kylo:kylo:vault:keys:KEK-*']}, 'f.json')).toThrow(/upper-case/)
    expect(() => validatePolicyBody({actions: ['ReadKey'], resources: []}, 'f.json')).toThrow(/"name" is required/)
    expect(() => validatePolicyBody({name: 'p', actions: [], resources: []}, 'f.json')).toThrow(/"actions"/)
    expect(() => validatePolicyBody({name: 'p', actions: ['ReadKey'], resources: ['kylo:kylo:vault:secrets:*']}, 'f.json')).not.toThrow()
  })
})
