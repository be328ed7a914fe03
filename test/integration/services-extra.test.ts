import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {request as httpsRequest} from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {bundlePem, testKey, type TestKey} from '../helpers/bundle-fixtures.js'
import {selfSignedCert} from '../helpers/certs.js'
import {json, runCli} from '../helpers/cli.js'
import {httpRequest, socketReady, startService, type Service} from '../helpers/service.js'

let dir: string
let A: TestKey
const services: Service[] = []
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'trustctl-svc2-'))
  A = testKey('a.pem')
  mkdirSync(join(dir, 'keys'))
  writeFileSync(join(dir, 'keys', 'a.pem'), A.publicPem)
  writeFileSync(join(dir, 'a.key'), A.privatePem)
})
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()))
  rmSync(dir, {recursive: true, force: true})
})

const cli = (args: string[]) => runCli(args, {cwd: dir, env: {HOME: dir}})

describe('verifier serve cache', () => {
  it('serves the verified bundle from memory, and fetches again shortly before the token expires', async () => {
    const first = bundlePem('first.example.org')
    const second = bundlePem('second.example.org')
    writeFileSync(join(dir, 'first.pem'), first)
    writeFileSync(join(dir, 'second.pem'), second)
    // exp in 32 s: the cache is good until 30 s before exp, i.e. for about 2 s.
    expect((await cli(['bundle', 'sign', '--bundle', 'first.pem', '--key', 'a.key', '--ttl', '32s', '--out', 'token', '--force'])).code).toBe(0)
    const sock = join(dir, 'v.sock')
    writeFileSync(join(dir, 'v.conf'), `keydir: keys\nsocket: ${sock}\nkeyset:\n  main:\n    url: ${join(dir, 'token')}\n    chain: [a.pem]\n`)
    const v = await startService(['verifier', 'serve', '--config', 'v.conf'], {cwd: dir, env: {HOME: dir}, ready: socketReady(sock)})
    services.push(v)
    const get = () => httpRequest({socketPath: sock, path: '/trustbundle?instance=main'})
    expect((await get()).body).toBe(first)
    expect((await cli(['bundle', 'sign', '--bundle', 'second.pem', '--key', 'a.key', '--ttl', '1h', '--out', 'token', '--force'])).code).toBe(0)
    expect((await get()).body).toBe(first) // still cached
    await new Promise((r) => setTimeout(r, 3000))
    expect((await get()).body).toBe(second) // refreshed before the first token's exp
  }, 30_000)
})

describe('signer http over TLS', () => {
  it('a missing or mismatched tls-cert / tls-key is a clear error before listening', async () => {
    const cert = selfSignedCert()
    const other = selfSignedCert()
    writeFileSync(join(dir, 'm.crt'), cert.certPem)
    writeFileSync(join(dir, 'other.key'), other.keyPem)
    const conf = (crt: string, key: string) => `socket: ${join(dir, 'none.sock')}\nkeydir: keys\nprimary: a.pem\nlisten-addr: "127.0.0.1:0"\nallowed-addrs: [127.0.0.1]\ntls-cert: ${crt}\ntls-key: ${key}\n`
    writeFileSync(join(dir, 'missing.conf'), conf('m.crt', 'nope.key'))
    const missing = await runCli(['signer', 'http', '--config', 'missing.conf', '--json'], {cwd: dir, env: {HOME: dir}})
    expect(missing.code).toBe(3)
    expect(json(missing).error.message).toContain('nope.key')
    writeFileSync(join(dir, 'mismatch.conf'), conf('m.crt', 'other.key'))
    const mismatch = await runCli(['signer', 'http', '--config', 'mismatch.conf', '--json'], {cwd: dir, env: {HOME: dir}})
    expect(mismatch.code).toBe(2)
    expect(json(mismatch).error.message).toMatch(/tls-cert .*m\.crt \/ tls-key .*other\.key/)
  })

  it('serves HTTPS with tls-cert / tls-key from its config', async () => {
    const cert = selfSignedCert()
    writeFileSync(join(dir, 'tls.crt'), cert.certPem)
    writeFileSync(join(dir, 'tls.key'), cert.keyPem)
    const port = 20000 + Math.floor(Math.random() * 20000)
    writeFileSync(join(dir, 'h.conf'), `socket: ${join(dir, 'none.sock')}\nkeydir: keys\nprimary: a.pem\nlisten-addr: "127.0.0.1:${port}"\nallowed-addrs: [127.0.0.1]\ntls-cert: tls.crt\ntls-key: tls.key\n`)
    const get = () =>
      new Promise<number>((resolve) => {
        const req = httpsRequest({host: '127.0.0.1', port, path: '/healthz', ca: cert.certPem}, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', () => resolve(0))
        req.end()
      })
    const s = await startService(['signer', 'http', '--config', 'h.conf'], {cwd: dir, env: {HOME: dir}, ready: async () => (await get()) === 200})
    services.push(s)
    expect(await get()).toBe(200)
    // Plain HTTP to the TLS port does not get an answer from the app.
    const plain = await httpRequest({port, path: '/healthz'}).then((r) => r.status, () => 0)
    expect(plain).not.toBe(200)
    expect(s.logs()).toMatch(/TLS/)
  })
})
