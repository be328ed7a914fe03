import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {verifyToken} from '../../src/lib/bundle/verify.js'
import {bundlePem, nestedToken, testKey, type TestKey} from '../helpers/bundle-fixtures.js'
import {ROOT} from '../helpers/cli.js'

// Debian's python3-jwt (PyJWT) lives in the system Python, not in a pyenv or venv one.
const PY = '/usr/bin/python3'
const FIX = join(ROOT, 'test', 'fixtures', 'interop')

let dir: string
let A: TestKey, E: TestKey, BK: TestKey
let BUNDLE: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'trustctl-interop-'))
  A = testKey('a.pem')
  E = testKey('e.pem', 'ec')
  BK = testKey('backup.pem')
  BUNDLE = bundlePem()
  for (const k of [A, E, BK]) {
    writeFileSync(join(dir, k.name), k.publicPem)
    writeFileSync(join(dir, k.name.replace('.pem', '.key')), k.privatePem)
  }
  writeFileSync(join(dir, 'bundle.pem'), BUNDLE)
  // Fail loudly (not skip) when the independent implementation is missing.
  execFileSync(PY, ['-c', 'import jwt, cryptography'])
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function pyVerify(token: string, chain: string[], backup?: string) {
  writeFileSync(join(dir, 'token.jwt'), token)
  return spawnSync(PY, [join(FIX, 'verify_reference.py'), join(dir, 'token.jwt'), ...(backup ? ['--backup', join(dir, backup)] : []), ...chain.map((c) => join(dir, c))], {encoding: 'utf8'})
}

describe('trustctl tokens verified by python3-jwt following the reference algorithm', () => {
  it.each([
    ['1 RS256 layer', ['a']],
    ['2 layers, RS256 then ES256', ['a', 'e']],
    ['3 layers, ES256 / RS256 / ES256', ['e', 'a', 'e']],
  ])('%s', async (_name, names) => {
    const keys = names.map((n) => ({a: A, e: E})[n as 'a' | 'e'])
    const token = await nestedToken(BUNDLE, keys.map((k) => k.signer))
    const r = pyVerify(token, keys.map((k) => k.name))
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toBe(BUNDLE)
  })

  it('the backup key at a nested layer, as the reference handles it', async () => {
    const token = await nestedToken(BUNDLE, [A.signer, BK.signer])
    const r = pyVerify(token, ['a.pem', 'e.pem'], 'backup.pem')
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toContain('Backup key used!')
  })

  it('and python rejects a trustctl token signed by the wrong key (the check can fail)', async () => {
    const token = await nestedToken(BUNDLE, [A.signer])
    const r = pyVerify(token, ['e.pem'])
    expect(r.status).not.toBe(0)
  })
})

describe('python3-jwt tokens with the reference claim names verified by trustctl', () => {
  it.each([
    ['RS256', ['a']],
    ['RS256 inside ES256', ['a', 'e']],
    ['three layers', ['e', 'a', 'a']],
  ])('%s', (_name, names) => {
    const keys = names.map((n) => ({a: A, e: E})[n as 'a' | 'e'])
    const token = execFileSync(PY, [join(FIX, 'make_token.py'), join(dir, 'bundle.pem'), '600', ...keys.map((k) => join(dir, k.name.replace('.pem', '.key')))], {encoding: 'utf8'}).trim()
    const r = verifyToken(token, {chain: keys.map((k) => k.verifyKey)})
    expect(r.bundle).toBe(BUNDLE)
    expect(r.layers.map((l) => l.issuer)).toEqual(keys.map((_k, i) => `python-${i}`))
    expect(r.layers.map((l) => l.alg)).toEqual(keys.map((k) => k.verifyKey.alg))
  })

  it('an expired python token is refused with the reason', () => {
    const token = execFileSync(PY, [join(FIX, 'make_token.py'), join(dir, 'bundle.pem'), '-60', join(dir, 'a.key')], {encoding: 'utf8'}).trim()
    expect(() => verifyToken(token, {chain: [A.verifyKey]})).toThrow(/layer 1 of 1: expired 1 min( \d+ s)? ago/)
  })
})
