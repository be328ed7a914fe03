import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {json, runCli} from '../helpers/cli.js'
import {bundlePem, testKey, type TestKey} from '../helpers/bundle-fixtures.js'
import {startSwtpm, type Swtpm} from '../helpers/swtpm.js'

let dir: string
let A: TestKey, B: TestKey, E: TestKey, BK: TestKey
let server: Server
let port: number
let served = ''

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trustctl-bundle-'))
  A = testKey('a.pem')
  B = testKey('b.pem')
  E = testKey('e.pem', 'ec')
  BK = testKey('backup.pem')
  mkdirSync(join(dir, 'keys'))
  for (const k of [A, B, E, BK]) {
    writeFileSync(join(dir, 'keys', k.name), k.publicPem)
    writeFileSync(join(dir, k.name.replace('.pem', '.key')), k.privatePem, {mode: 0o600})
  }
  writeFileSync(join(dir, 'bundle.pem'), bundlePem())
  server = createServer((req, res) => {
    if (req.url === '/spiffetrustbundle.token') res.end(served)
    else {
      res.statusCode = 404
      res.end('no')
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as AddressInfo).port
})
afterAll(async () => {
  server?.closeAllConnections()
  await new Promise((r) => server?.close(r))
  rmSync(dir, {recursive: true, force: true})
})

const cli = (args: string[], input?: string, env: Record<string, string> = {}) => runCli(args, {cwd: dir, input, env: {HOME: dir, ...env}})

async function sign2(): Promise<string> {
  expect((await cli(['bundle', 'sign', '--bundle', 'bundle.pem', '--key', 'a.key', '--issuer', 'server-a', '--out', 't1.jwt', '--force'])).code).toBe(0)
  const r = await cli(['bundle', 'sign', '--wrap', 't1.jwt', '--key', 'e.key', '--issuer', 'server-b', '--out', 't2.jwt', '--force', '--json'])
  expect(r.code, r.stderr).toBe(0)
  return json(r).token
}

describe('bundle sign / verify / inspect through the CLI', () => {
  it('signs innermost and nested layers, writes --out atomically 0644, refuses to replace without --force', async () => {
    const token = await sign2()
    expect(readFileSync(join(dir, 't2.jwt'), 'utf8')).toBe(`${token}\n`)
    expect(statSync(join(dir, 't2.jwt')).mode & 0o777).toBe(0o644)
    const again = await cli(['bundle', 'sign', '--bundle', 'bundle.pem', '--key', 'a.key', '--out', 't1.jwt'])
    expect(again.code).toBe(8)
  })

  it('verifies with --chain (innermost first) and prints the bundle; --json has layers, keys and certificates', async () => {
    await sign2()
    const human = await cli(['bundle', 'verify', '--chain', 'keys/a.pem', '--chain', 'keys/e.pem', '--token', 't2.jwt'])
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toBe(readFileSync(join(dir, 'bundle.pem'), 'utf8'))
    const r = json(await cli(['bundle', 'verify', '--keydir', 'keys', '--chain', 'a.pem', '--chain', 'e.pem', '--token', 't2.jwt', '--json']))
    expect(r.layers.map((l: any) => [l.layer, l.issuer, l.key, l.alg])).toEqual([[1, 'server-a', 'a.pem', 'RS256'], [2, 'server-b', 'e.pem', 'ES256']])
    expect(r.backupUsed).toBe(false)
    expect(r.certificates[0]).toMatchObject({spiffeIds: ['spiffe://example.org'], fingerprintSha256: expect.stringMatching(/^[0-9a-f]{64}$/)})
  })

  it('reads the token from file://, http:// and stdin', async () => {
    served = await sign2()
    const chain = ['--chain', 'keys/a.pem', '--chain', 'keys/e.pem']
    for (const src of [pathToFileURL(join(dir, 't2.jwt')).href, `http://127.0.0.1:${port}/spiffetrustbundle.token`]) {
      const r = await cli(['bundle', 'verify', ...chain, '--token', src])
      expect(r.code, `${src}: ${r.stderr}`).toBe(0)
    }
    expect((await cli(['bundle', 'verify', ...chain], served)).code).toBe(0)
    expect((await cli(['bundle', 'verify', ...chain, '--token', '-'], served)).code).toBe(0)
    const missing = await cli(['bundle', 'verify', ...chain, '--token', `http://127.0.0.1:${port}/nope`, '--json'])
    expect(missing.code).toBe(3)
    const down = await cli(['bundle', 'verify', ...chain, '--token', 'http://127.0.0.1:1/x', '--json', '--timeout', '2s'])
    expect(down.code).toBe(7)
    expect(json(down).error.code).toBe('TOKEN_UNAVAILABLE')
  })

  it('reads an https:// token with --ca-file; without it the untrusted server is exit 7 naming --ca-file', async () => {
    const {selfSignedCert} = await import('../helpers/certs.js')
    const {createServer: createHttps} = await import('node:https')
    const cert = selfSignedCert()
    const token = await sign2()
    const tls = createHttps({key: cert.keyPem, cert: cert.certPem}, (_req, res) => res.end(token))
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r))
    try {
      writeFileSync(join(dir, 'ca.pem'), cert.certPem)
      const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/spiffetrustbundle.token`
      const chain = ['--chain', 'keys/a.pem', '--chain', 'keys/e.pem', '--token', url]
      const ok = await cli(['bundle', 'verify', ...chain, '--ca-file', 'ca.pem'])
      expect(ok.code, ok.stderr).toBe(0)
      const untrusted = await cli(['bundle', 'verify', ...chain, '--json'])
      expect(untrusted.code).toBe(7)
      expect(json(untrusted).error.suggestions.join(' ')).toContain('--ca-file')
    } finally {
      tls.closeAllConnections()
      await new Promise((r) => tls.close(r))
    }
  })

  it('uses a verifier config in the reference format: keydir relative to the file, ${VAR} expansion', async () => {
    await sign2()
    mkdirSync(join(dir, 'etc', 'keys'), {recursive: true})
    for (const k of [A, E, BK]) writeFileSync(join(dir, 'etc', 'keys', k.name), k.publicPem)
    writeFileSync(
      join(dir, 'etc', 'verifier.conf'),
      `keydir: keys
socket: /var/run/spire/server-attestor-tpm/verifier.sock
keyset:
  a:
    url: \${TOKEN_DIR}/t2.jwt
    backup: backup.pem
    chain:
    - a.pem
    - e.pem
  b:
    url: http://1.2.3.6/spiffetrustbundle.token
    chain:
    - e.pem
    - a.pem
`,
    )
    const r = await cli(['bundle', 'verify', '--config', 'etc/verifier.conf', '--keyset', 'a', '--json'], undefined, {TOKEN_DIR: dir})
    expect(r.code, r.stderr).toBe(0)
    expect(json(r)).toMatchObject({keyset: 'a', token: `${dir}/t2.jwt`})
    // keyset b lists the chain the other way round: wrong order fails at the outermost layer
    const wrong = await cli(['bundle', 'verify', '--config', 'etc/verifier.conf', '--keyset', 'b', '--token', 't2.jwt', '--json'])
    expect(wrong.code).toBe(6)
    expect(json(wrong).error.message).toMatch(/layer 2 of 2 \(outermost\)/)
    const unknown = await cli(['bundle', 'verify', '--config', 'etc/verifier.conf', '--keyset', 'zzz', '--json'])
    expect(unknown.code).toBe(3)
    expect(json(unknown).error).toMatchObject({code: 'KEYSET_NOT_FOUND', suggestions: ['use one of: a, b']})
  })

  it.each([
    ['a chain entry missing from keydir', 'keydir: keys\nkeyset:\n  a:\n    url: t.jwt\n    chain: [nope.pem]\n', /keyset a: chain entry 1 nope.pem is not in keydir/],
    ['an empty chain', 'keydir: keys\nkeyset:\n  a:\n    url: t.jwt\n    chain: []\n', /keyset a: chain is empty/],
    ['no url', 'keydir: keys\nkeyset:\n  a:\n    chain: [a.pem]\n', /keyset a: url is not set/],
    ['a bad url scheme', 'keydir: keys\nkeyset:\n  a:\n    url: ftp://x/t\n    chain: [a.pem]\n', /url scheme ftp is not supported/],
    ['a missing backup', 'keydir: keys\nkeyset:\n  a:\n    url: t.jwt\n    backup: gone.pem\n    chain: [a.pem]\n', /backup gone.pem is not in keydir/],
    ['no keyset', 'keydir: keys\n', /no keyset defined/],
    ['invalid YAML', 'keyset: [\n', /is not valid YAML/],
  ])('start-up validation: %s is exit 2 with a precise message', async (_name, yaml, message) => {
    writeFileSync(join(dir, 'bad.conf'), yaml)
    const r = await cli(['bundle', 'verify', '--config', 'bad.conf', '--keyset', 'a', '--json'])
    expect(r.code).toBe(2)
    expect(json(r).error).toMatchObject({code: 'CONFIG_INVALID', message: expect.stringMatching(message)})
  })

  it('a keydir file that is not a public key fails start-up, as in the reference', async () => {
    mkdirSync(join(dir, 'k2'), {recursive: true})
    writeFileSync(join(dir, 'k2', 'a.pem'), A.publicPem)
    writeFileSync(join(dir, 'k2', 'notes.txt'), 'hello')
    writeFileSync(join(dir, 'k2.conf'), 'keydir: k2\nkeyset:\n  a:\n    url: t.jwt\n    chain: [a.pem]\n')
    const r = await cli(['bundle', 'verify', '--config', 'k2.conf', '--keyset', 'a', '--json'])
    expect(r.code).toBe(2)
    expect(json(r).error.message).toMatch(/notes.txt.*not a PEM public key/)
  })

  it('every verification failure is exit 6 in both modes, with the reason; backup use is reported', async () => {
    await sign2()
    const human = await cli(['bundle', 'verify', '--chain', 'keys/b.pem', '--chain', 'keys/e.pem', '--token', 't2.jwt'])
    expect(human.code).toBe(6)
    expect(human.stderr.split('\n')[0]).toBe('Error: layer 1 of 2 (innermost): the signature does not verify with b.pem')
    const machine = await cli(['bundle', 'verify', '--chain', 'keys/b.pem', '--chain', 'keys/e.pem', '--token', 't2.jwt', '--json'])
    expect(json(machine).error).toMatchObject({code: 'SIGNATURE_INVALID', exitCode: 6, details: {layer: 1, key: 'b.pem'}})
    const withBackup = await cli(['bundle', 'verify', '--chain', 'keys/b.pem', '--chain', 'keys/e.pem', '--backup', 'keys/a.pem', '--token', 't2.jwt', '--json'])
    expect(withBackup.code).toBe(0)
    expect(json(withBackup)).toMatchObject({backupUsed: true, backupLayer: 1})
    expect(withBackup.stderr).toMatch(/Warning: backup key a.pem used for layer 1 of 2/)
    const pinned = await cli(['bundle', 'verify', '--chain', 'keys/a.pem', '--chain', 'keys/e.pem', '--issuer', '-', '--issuer', 'someone-else', '--token', 't2.jwt', '--json'])
    expect(pinned.code).toBe(6)
    expect(json(pinned).error.code).toBe('ISSUER_MISMATCH')
    writeFileSync(join(dir, 'big.jwt'), 'x'.repeat(2000))
    const big = await cli(['bundle', 'verify', '--chain', 'keys/a.pem', '--token', 'big.jwt', '--max-size', '1000', '--json'])
    expect(big.code).toBe(6)
    expect(json(big).error.code).toBe('TOKEN_TOO_LARGE')
  })

  it('bad inputs to sign: a bundle without a certificate is exit 2; no signer key is exit 3', async () => {
    writeFileSync(join(dir, 'empty.pem'), 'no certificates here\n')
    const r = await cli(['bundle', 'sign', '--bundle', 'empty.pem', '--key', 'a.key', '--json'])
    expect(r.code).toBe(2)
    expect(json(r).error).toMatchObject({code: 'INVALID_BUNDLE', message: expect.stringMatching(/holds no X.509 certificate/)})
    const noKey = await cli(['bundle', 'sign', '--bundle', 'bundle.pem', '--key', 'missing.key', '--json'])
    expect(noKey.code).toBe(3)
    const both = await cli(['bundle', 'sign', '--bundle', 'bundle.pem', '--wrap', 't1.jwt', '--key', 'a.key'])
    expect(both.code).toBe(2)
  })

  it('inspect decodes every layer and says prominently that nothing was verified', async () => {
    await sign2()
    const human = await cli(['bundle', 'inspect', '--token', 't2.jwt'])
    expect(human.code).toBe(0)
    expect(human.stdout.split('\n')[0]).toBe('*** NOT VERIFIED: decoded only ***')
    expect(human.stderr).toMatch(/NOT VERIFIED/)
    const r = json(await cli(['bundle', 'inspect', '--token', 't2.jwt', '--json']))
    expect(r).toMatchObject({verified: false, layers: [{layer: 1, claims: {iss: 'server-a'}}, {layer: 2, claims: {iss: 'server-b'}}]})
    expect(r.layers[1].times.exp).toMatch(/\(in \d+ min/)
    expect(r.certificates).toHaveLength(1)
  })
})

describe('TPM-signed tokens, end to end with swtpm', () => {
  let tpm: Swtpm
  beforeAll(async () => {
    tpm = await startSwtpm()
  })
  afterAll(async () => {
    await tpm?.stop()
  })

  it('signs with the TPM key, wraps with a key file, verifies with the exported public key', async () => {
    const env = {TPM2TOOLS_TCTI: tpm.tcti}
    expect((await cli(['tpm', 'provision'], undefined, env)).code).toBe(0)
    expect((await cli(['tpm', 'pubkey', '--out', 'keys/tpm.pem', '--force'], undefined, env)).code).toBe(0)
    const s1 = await cli(['bundle', 'sign', '--bundle', '-', '--tpm-handle', '0x81008006', '--out', 'tpm1.jwt', '--force', '--json'], readFileSync(join(dir, 'bundle.pem'), 'utf8'), env)
    expect(s1.code, s1.stderr).toBe(0)
    expect(json(s1)).toMatchObject({alg: 'RS256', layer: 'innermost', signer: expect.stringContaining('TPM key 0x81008006')})
    expect((await cli(['bundle', 'sign', '--wrap', 'tpm1.jwt', '--key', 'b.key', '--out', 'tpm2.jwt', '--force'])).code).toBe(0)
    const v = await cli(['bundle', 'verify', '--chain', 'keys/tpm.pem', '--chain', 'keys/b.pem', '--token', 'tpm2.jwt', '--json'])
    expect(v.code, v.stderr).toBe(0)
    expect(json(v).layers.map((l: any) => l.key)).toEqual(['tpm.pem', 'b.pem'])
    // and the TPM can wrap too: a three-layer token whose outer layer is the TPM's
    expect((await cli(['bundle', 'sign', '--wrap', 'tpm2.jwt', '--out', 'tpm3.jwt', '--force'], undefined, env)).code).toBe(0)
    const v3 = await cli(['bundle', 'verify', '--chain', 'keys/tpm.pem', '--chain', 'keys/b.pem', '--chain', 'keys/tpm.pem', '--token', 'tpm3.jwt'])
    expect(v3.code, v3.stderr).toBe(0)
  })
})
