import {describe, expect, it} from 'vitest'

import {unwrapUuids} from '../../../src/lib/keylime/client.js'
import {checkNonce, pluginNonce} from '../../../src/lib/keylime/nonce.js'
import {parseAgentsFile} from '../../../src/lib/keylime/ops.js'
import {passesPluginRule, stateName} from '../../../src/lib/keylime/states.js'
import {compareVersions, negotiate} from '../../../src/lib/keylime/version.js'

describe('nonces', () => {
  it('accepts 1-64 ASCII letters and digits, rejects the rest before any request', () => {
    expect(checkNonce('a')).toBe('a')
    expect(checkNonce('A'.repeat(64))).toHaveLength(64)
    for (const bad of ['', 'a+b', 'a b', 'é', 'x'.repeat(65), 'abc=', 'a/b']) {
      expect(() => checkNonce(bad), bad).toThrow(expect.objectContaining({code: 'INVALID_NONCE', exitCode: 2}))
    }
  })

  it("generates the plugin's nonce: 32 characters of base32", () => {
    const seen = new Set<string>()
    for (let i = 0; i < 100; i++) {
      const n = pluginNonce()
      expect(n).toMatch(/^[A-Z2-7]{32}$/)
      seen.add(n)
    }
    expect(seen.size).toBe(100)
  })
})

describe('versions', () => {
  it('compares numerically and picks the highest common one', () => {
    expect(compareVersions('2.10', '2.9')).toBeGreaterThan(0)
    expect(negotiate('agent', ['2.1'])).toBe('2.1')
    expect(negotiate('verifier', ['1.0', '2.0', '2.1', '2.2', '2.3', '3.0'])).toBe('2.3')
    expect(negotiate('agent', ['v2.2', '2.1'])).toBe('2.2')
    expect(() => negotiate('agent', ['1.0', '3.0'])).toThrow(/trustctl speaks/)
    expect(negotiate('agent', ['2.1'], '2.2')).toBe('2.2')
  })
})

describe('states and lists', () => {
  it('only 3 and 4 pass the plugin rule', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter(passesPluginRule)).toEqual([3, 4])
    expect(stateName(4)).toBe('Get Quote (retry)')
    expect(stateName(10)).toBe('Tenant Quote Failed')
    expect(stateName(42)).toBe('unknown (42)')
  })

  it('unwraps verifier rows ([["id"]]) and registrar strings', () => {
    expect(unwrapUuids({uuids: [['a'], ['b']]})).toEqual(['a', 'b'])
    expect(unwrapUuids({uuids: ['a', 'b']})).toEqual(['a', 'b'])
    expect(unwrapUuids({})).toEqual([])
  })

  it('reads agent files: host:port lines with comments, or JSON', () => {
    expect(parseAgentsFile('# fleet\n10.0.0.1:9002\n\n[::1]:9002 # v6\n', 'f')).toEqual([{host: '10.0.0.1', port: 9002}, {host: '::1', port: 9002}])
    expect(parseAgentsFile('[{"host":"a","port":1},"b:2"]', 'f')).toEqual([{host: 'a', port: 1}, {host: 'b', port: 2}])
    expect(() => parseAgentsFile('nohost\n', 'f')).toThrow(/f: "nohost" is not host:port \(line 1\)/)
    expect(() => parseAgentsFile('a:70000', 'f')).toThrow(/not host:port/)
  })
})
