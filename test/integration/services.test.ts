import {connect} from 'node:net'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {bundlePem, testKey, type TestKey} from '../helpers/bundle-fixtures.js'
import {json, runCli} from '../helpers/cli.js'
import {httpRequest, socketReady, startService, type Service} from '../helpers/service.js'
import {startSwtpm, type Swtpm} from '../helpers/swtpm.js'

// The HA layout of specs/bundle-token.md §2, with real processes and two software TPMs.
let dir: string
let tpmA: Swtpm, tpmB: Swtpm, tpmBackup: Swtpm
let BUNDLE: string
let intruder: TestKey
const services: Service[] = []
const port = 20000 + Math.floor(Math.random() * 20000)

const S = (name: string) => join(dir, `${name}.sock`)
const cli = (args: string[], env: Record<string, string> = {}, input?: string) => runCli(args, {cwd: dir, env: {HOME: dir, ...env}, input})

async function service(args: string[], ready: () => boolean | Promise<boolean>, env: Record<string, string> = {}): Promise<Service> {
  const s = await startService(args, {cwd: dir, env: {HOME: dir, ...env}, ready})
  services.push(s)
  return s
}

const httpReady = (p: number) => async () => httpRequest({port: p, path: '/healthz'}).then((r) => r.status === 200, () => false)

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trustctl-svc-'))
  ;[tpmA, tpmB, tpmBackup] = await Promise.all([startSwtpm(), startSwtpm(), startSwtpm()])
  mkdirSync(join(dir, 'keys'))
  mkdirSync(join(dir, 'www'))
  BUNDLE = bundlePem()
  writeFileSync(join(dir, 'bundle.pem'), BUNDLE)
  intruder = testKey('intruder.pem')
  writeFileSync(join(dir, 'intruder.key'), intruder.privatePem)
  for (const [t, name] of [[tpmA, 'a'], [tpmB, 'b'], [tpmBackup, 'backup']] as const) {
    expect((await cli(['tpm', 'provision'], {TPM2TOOLS_TCTI: t.tcti})).code).toBe(0)
    expect((await cli(['tpm', 'pubkey', '--out', `keys/${name}.pem`], {TPM2TOOLS_TCTI: t.tcti})).code).toBe(0)
  }
  // Config files exactly as the seed README shows them (tpm-address unquoted), plus dir.
  for (const name of ['a', 'b', 'backup']) {
    writeFileSync(join(dir, `signer-unix-${name}.conf`), `socket: ${S(`unix-${name}`)}\ntpm-address: 0x81008006\nduration:  10m\ndir: \${WWW}\n# issuer: xxxx\n`)
  }
  writeFileSync(
    join(dir, 'signer-http-b.conf'),
    `# Location of the signer-unix service socket\nsocket: ${S('unix-b')}\n\n# Directory where keys will be looked up in.\nkeydir: keys\n\n# Key to verify signatures against.\nprimary: a.pem\n\n# Backup key to allow for signatures. If seen, it will be logged.\nbackup: backup.pem\n\n# Port and optional ip address to listen on\nlisten-addr: "127.0.0.1:${port}"\n\nallowed-addrs:\n- 127.0.0.1\n- localhost\nheaders-timeout: 1s\nbody-limit: 65536\n`,
  )
  writeFileSync(join(dir, 'verifier.conf'), `keydir: keys\nsocket: ${S('verifier')}\nkeyset:\n  a:\n    url: file://${dir}/www/spiffetrustbundle.token\n    backup: backup.pem\n    chain:\n    - a.pem\n    - b.pem\n  broken:\n    url: http://127.0.0.1:1/spiffetrustbundle.token\n    chain:\n    - a.pem\n`)
  const env = {WWW: join(dir, 'www')}
  await service(['signer', 'unix', '--config', 'signer-unix-a.conf', '--tcti', tpmA.tcti], socketReady(S('unix-a')), env)
  await service(['signer', 'unix', '--config', 'signer-unix-b.conf', '--tcti', tpmB.tcti], socketReady(S('unix-b')), env)
  await service(['signer', 'unix', '--config', 'signer-unix-backup.conf', '--tcti', tpmBackup.tcti], socketReady(S('unix-backup')), env)
  await service(['signer', 'http', '--config', 'signer-http-b.conf'], httpReady(port))
}, 120_000)

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()))
  await Promise.all([tpmA, tpmB, tpmBackup].map((t) => t?.stop()))
  rmSync(dir, {recursive: true, force: true})
})

describe('the HA scenario: A signs, B adds a layer, A publishes, the verifier serves', () => {
  it('publishes a two-layer token that the verifier serves as the original PEM bundle', async () => {
    const pub = await cli(['bundle', 'publish', '--bundle', 'bundle.pem', '--socket', S('unix-a'), '--url', `http://127.0.0.1:${port}/sign`, '--verify-chain', 'keys/a.pem', '--verify-chain', 'keys/b.pem', '--json'])
    expect(pub.code, pub.stderr).toBe(0)
    const token = readFileSync(join(dir, 'www', 'spiffetrustbundle.token'), 'utf8')
    expect(token).toBe(json(pub).token)
    expect(statSync(join(dir, 'www', 'spiffetrustbundle.token')).mode & 0o777).toBe(0o644)
    await service(['verifier', 'serve', '--config', 'verifier.conf'], socketReady(S('verifier')))
    const r = await httpRequest({socketPath: S('verifier'), path: '/trustbundle?instance=a'})
    expect(r).toEqual({status: 200, body: BUNDLE})
    const layers = json(await cli(['bundle', 'verify', '--config', 'verifier.conf', '--keyset', 'a', '--json'])).layers
    expect(layers.map((l: any) => l.key)).toEqual(['a.pem', 'b.pem'])
  })

  it('the verifier answers 400 / 404 / 502 / 422 as documented, and serves from its cache', async () => {
    expect((await httpRequest({socketPath: S('verifier'), path: '/trustbundle'})).status).toBe(400)
    expect((await httpRequest({socketPath: S('verifier'), path: '/trustbundle?instance=zzz'})).status).toBe(404)
    expect((await httpRequest({socketPath: S('verifier'), path: '/trustbundle?instance=broken'})).status).toBe(502)
    // The served file is replaced by garbage: the cached verified bundle is still served...
    const good = readFileSync(join(dir, 'www', 'spiffetrustbundle.token'), 'utf8')
    writeFileSync(join(dir, 'www', 'spiffetrustbundle.token'), 'garbage')
    expect(await httpRequest({socketPath: S('verifier'), path: '/trustbundle?instance=a'})).toEqual({status: 200, body: BUNDLE})
    // ...and a fresh verifier (no cache) refuses it with 422.
    writeFileSync(join(dir, 'verifier2.conf'), readFileSync(join(dir, 'verifier.conf'), 'utf8').replace(S('verifier'), S('verifier2')))
    const v2 = await service(['verifier', 'serve', '--config', 'verifier2.conf'], socketReady(S('verifier2')))
    const r = await httpRequest({socketPath: S('verifier2'), path: '/trustbundle?instance=a'})
    expect(r.status).toBe(422)
    expect(r.body).toMatch(/does not verify/)
    writeFileSync(join(dir, 'www', 'spiffetrustbundle.token'), good)
    expect((await httpRequest({socketPath: S('verifier2'), path: '/trustbundle?instance=a'})).status).toBe(200)
    expect(await v2.stop()).toBe(0)
  })

  it("with A's key replaced by the backup TPM's key, the verifier reports backup use", async () => {
    const pub = await cli(['bundle', 'publish', '--bundle', 'bundle.pem', '--socket', S('unix-backup'), '--url', `http://127.0.0.1:${port}/sign`])
    expect(pub.code, pub.stderr).toBe(0)
    // The backup signer-unix published into the same directory.
    const v = await cli(['bundle', 'verify', '--config', 'verifier.conf', '--keyset', 'a', '--json'])
    expect(v.code, v.stderr).toBe(0)
    expect(json(v)).toMatchObject({backupUsed: true, backupLayer: 1})
    writeFileSync(join(dir, 'verifier3.conf'), readFileSync(join(dir, 'verifier.conf'), 'utf8').replace(S('verifier'), S('verifier3')))
    const v3 = await service(['verifier', 'serve', '--config', 'verifier3.conf'], socketReady(S('verifier3')))
    expect(await httpRequest({socketPath: S('verifier3'), path: '/trustbundle?instance=a'})).toEqual({status: 200, body: BUNDLE})
    await v3.stop()
    expect(v3.logs()).toMatch(/backup key backup.pem used for layer 1 of instance a/)
  })
})

describe('signer http defences', () => {
  it('a peer outside allowed-addrs gets 401', async () => {
    const r = await httpRequest({port, localAddress: '127.0.0.2', method: 'POST', path: '/sign', body: 'x'})
    expect(r.status).toBe(401)
    expect((await httpRequest({port, method: 'GET', path: '/healthz'})).status).toBe(200)
  })

  it('an empty body is 400; a token signed by an unknown key is 400 and reaches no signer', async () => {
    expect((await httpRequest({port, method: 'POST', path: '/sign', body: ''})).status).toBe(400)
    const signerB = services[1]!
    const before = (signerB.logs().match(/signed a nested token/g) ?? []).length
    const forged = await cli(['bundle', 'sign', '--bundle', 'bundle.pem', '--key', 'intruder.key', '--json'])
    const r = await httpRequest({port, method: 'POST', path: '/sign', body: json(forged).token, headers: {'content-type': 'application/jwt'}})
    expect(r.status).toBe(400)
    expect(r.body).toMatch(/token refused, not forwarded/)
    expect((signerB.logs().match(/signed a nested token/g) ?? []).length).toBe(before)
    // The rejection is logged with its reason (stderr may arrive just after the response).
    const deadline = Date.now() + 3000
    while (!/-> 400: token refused/.test(services[3]!.logs()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
    expect(services[3]!.logs()).toMatch(/-> 400: token refused/)
  })

  it('an oversize body gets 413', async () => {
    const r = await httpRequest({port, method: 'POST', path: '/sign', body: 'x'.repeat(70_000)})
    expect(r.status).toBe(413)
  })

  it('a client that sends its headers slowly is cut off by the headers timeout', async () => {
    const started = Date.now()
    const closedAfter = await new Promise<number>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write('POST /sign HTTP/1.1\r\nHost: x\r\n'))
      const drip = setInterval(() => s.write('X-Slow: 1\r\n'), 300)
      s.on('data', () => undefined)
      s.on('close', () => {
        clearInterval(drip)
        resolve(Date.now() - started)
      })
      s.on('error', () => undefined)
    })
    expect(closedAfter).toBeLessThan(8000)
  })
})

describe('signer unix lifecycle', () => {
  it('a stale socket from a killed server does not stop a restart; a second server on the same socket is refused', async () => {
    const env = {WWW: join(dir, 'www')}
    writeFileSync(join(dir, 'signer-unix-c.conf'), `socket: ${S('unix-c')}\ntpm-address: 0x81008006\nduration: 10m\ndir: \${WWW}\n`)
    const first = await startService(['signer', 'unix', '--config', 'signer-unix-c.conf', '--tcti', tpmA.tcti], {cwd: dir, env: {HOME: dir, ...env}, ready: socketReady(S('unix-c'))})
    await first.stop('SIGKILL')
    expect(existsSync(S('unix-c'))).toBe(true) // left behind
    const second = await startService(['signer', 'unix', '--config', 'signer-unix-c.conf', '--tcti', tpmA.tcti], {cwd: dir, env: {HOME: dir, ...env}, ready: async () => httpRequest({socketPath: S('unix-c'), method: 'GET', path: '/'}).then(() => true, () => false)})
    expect(statSync(S('unix-c')).mode & 0o777).toBe(0o660)
    const third = await runCli(['signer', 'unix', '--config', 'signer-unix-c.conf', '--tcti', tpmA.tcti, '--json'], {cwd: dir, env: {HOME: dir, ...env}})
    expect(third.code).toBe(8)
    expect(json(third).error).toMatchObject({code: 'SOCKET_IN_USE'})
    expect(await second.stop()).toBe(0)
  })

  it('SIGTERM lets an in-flight request finish, removes the socket, exits 0', async () => {
    writeFileSync(join(dir, 'signer-unix-d.conf'), `socket: ${S('unix-d')}\ntpm-address: 0x81008006\nduration: 10m\ndir: ${join(dir, 'www')}\n`)
    const svc = await startService(['signer', 'unix', '--config', 'signer-unix-d.conf', '--tcti', tpmA.tcti], {cwd: dir, env: {HOME: dir}, ready: socketReady(S('unix-d'))})
    // Start a request whose body arrives slowly, signal in the middle, then finish the body.
    const reply = new Promise<{status: number; body: string}>((resolve, reject) => {
      const s = connect(S('unix-d'), () => {
        s.write(`POST /sign HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(BUNDLE)}\r\nConnection: close\r\n\r\n`)
        s.write(BUNDLE.slice(0, 100))
        setTimeout(() => svc.proc.kill('SIGTERM'), 200)
        setTimeout(() => s.write(BUNDLE.slice(100)), 600)
      })
      let data = ''
      s.setEncoding('utf8').on('data', (d: string) => (data += d))
      s.on('end', () => resolve({status: Number(data.split(' ')[1]), body: data.split('\r\n\r\n')[1] ?? ''}))
      s.on('error', reject)
    })
    const r = await reply
    expect(r.status).toBe(200)
    expect(r.body.split('.')).toHaveLength(3)
    expect(await svc.exited).toBe(0)
    expect(existsSync(S('unix-d'))).toBe(false)
  })
})
