import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {bundlePem} from '../helpers/bundle-fixtures.js'
import {json, runCli} from '../helpers/cli.js'
import {httpRequest, startService, type Service} from '../helpers/service.js'
import {startSwtpm, type Swtpm} from '../helpers/swtpm.js'

let dir: string
let tpm: Swtpm
let signer: Service
const sock = () => join(dir, 'unix.sock')
const target = () => join(dir, 'www', 'spiffetrustbundle.token')
const env = () => ({HOME: dir})

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trustctl-watch-'))
  tpm = await startSwtpm()
  expect((await runCli(['tpm', 'provision', '--tcti', tpm.tcti], {cwd: dir, env: env()})).code).toBe(0)
  expect((await runCli(['tpm', 'pubkey', '--tcti', tpm.tcti, '--out', 'keys/a.pem'], {cwd: dir, env: env()})).code).toBe(0)
  writeFileSync(join(dir, 'signer-unix.conf'), `socket: ${sock()}\ntpm-address: 0x81008006\nduration: 1h\ndir: www\n`)
  signer = await startService(['signer', 'unix', '--config', 'signer-unix.conf', '--tcti', tpm.tcti], {cwd: dir, env: env(), ready: () => httpRequest({socketPath: sock(), path: '/'}).then(() => true, () => false)})
  // A stand-in for spire-server (SPIRE is not packaged for Debian): prints the bundle file.
  mkdirSync(join(dir, 'bin'))
  writeFileSync(join(dir, 'bin', 'spire-server'), `#!/bin/sh\n[ "$1 $2 $3 $4" = "bundle show -format pem" ] || { echo "unexpected args: $*" >&2; exit 2; }\ncat "${join(dir, 'current.pem')}"\n`)
  chmodSync(join(dir, 'bin', 'spire-server'), 0o755)
}, 60_000)
afterAll(async () => {
  await signer?.stop()
  await tpm?.stop()
  rmSync(dir, {recursive: true, force: true})
})

const bundleOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).spiffetb as string

describe('bundle publish', () => {
  it('--from-spire reads the bundle with spire-server bundle show -format pem', async () => {
    const pem = bundlePem('spire.example.org')
    writeFileSync(join(dir, 'current.pem'), pem)
    const r = await runCli(['bundle', 'publish', '--from-spire', '--spire-server', join(dir, 'bin', 'spire-server'), '--socket', sock(), '--json'], {cwd: dir, env: env()})
    expect(r.code, r.stderr).toBe(0)
    expect(bundleOf(readFileSync(target(), 'utf8'))).toBe(pem)
  })

  it('--verify-chain never publishes a token that does not verify', async () => {
    const before = readFileSync(target(), 'utf8')
    // Expect a chain of two keys while the token has one layer: refused, file untouched.
    const r = await runCli(['bundle', 'publish', '--bundle', 'current.pem', '--socket', sock(), '--verify-chain', 'keys/a.pem', '--verify-chain', 'keys/a.pem', '--json'], {cwd: dir, env: env()})
    expect(r.code).toBe(6)
    expect(json(r).error).toMatchObject({code: 'VERIFY_FAILED'})
    expect(readFileSync(target(), 'utf8')).toBe(before)
  })

  it('a failing spire-server is exit 5 with its last stderr line; --frequency under 1s is exit 2', async () => {
    writeFileSync(join(dir, 'bin', 'failing-spire-server'), '#!/bin/sh\necho "connection error: dial unix /tmp/spire-server/private/api.sock" >&2\nexit 1\n')
    chmodSync(join(dir, 'bin', 'failing-spire-server'), 0o755)
    const r = await runCli(['bundle', 'publish', '--from-spire', '--spire-server', join(dir, 'bin', 'failing-spire-server'), '--socket', sock(), '--json'], {cwd: dir, env: env()})
    expect(r.code).toBe(5)
    expect(json(r).error.message).toBe('spire-server bundle show failed: connection error: dial unix /tmp/spire-server/private/api.sock')
    const fast = await runCli(['bundle', 'publish', '--bundle', 'current.pem', '--socket', sock(), '--watch', '--frequency', '0', '--json'], {cwd: dir, env: env()})
    expect(fast.code).toBe(2)
    expect(json(fast).error.message).toMatch(/--frequency: 0 is too short/)
  })

  it('an unreachable signer is exit 7 naming the socket', async () => {
    const r = await runCli(['bundle', 'publish', '--bundle', 'current.pem', '--socket', join(dir, 'nothing.sock'), '--json'], {cwd: dir, env: env()})
    expect(r.code).toBe(7)
    expect(json(r).error.message).toContain('nothing.sock')
  })

  it('--watch re-publishes when the bundle changes and when --frequency passes, and retries failures with backoff', async () => {
    const first = bundlePem('one.example.org')
    writeFileSync(join(dir, 'current.pem'), first)
    const watcher = await startService(['bundle', 'publish', '--from-spire', '--spire-server', join(dir, 'bin', 'spire-server'), '--socket', sock(), '--watch', '--frequency', '2s'], {
      cwd: dir,
      env: env(),
      ready: () => existsSync(target()) && bundleOf(readFileSync(target(), 'utf8')) === first,
    })
    try {
      // Frequency: the same bundle is re-published (a new token with a later iat) within ~2 s.
      const t1 = readFileSync(target(), 'utf8')
      const refreshed = await waitFor(() => readFileSync(target(), 'utf8') !== t1, 8000)
      expect(refreshed).toBe(true)
      expect(bundleOf(readFileSync(target(), 'utf8'))).toBe(first)
      // Change: a new bundle is published.
      const second = bundlePem('two.example.org')
      writeFileSync(join(dir, 'current.pem'), second)
      expect(await waitFor(() => bundleOf(readFileSync(target(), 'utf8')) === second, 8000)).toBe(true)
      // Failure: spire-server fails for a while; the watcher logs, backs off, and recovers.
      rmSync(join(dir, 'current.pem'))
      expect(await waitFor(() => /attempt failed \(2 in a row\), retrying in 2 s/.test(watcher.logs()), 10_000)).toBe(true)
      const third = bundlePem('three.example.org')
      writeFileSync(join(dir, 'current.pem'), third)
      expect(await waitFor(() => bundleOf(readFileSync(target(), 'utf8')) === third, 10_000)).toBe(true)
      expect(watcher.logs()).toMatch(/publisher: published \(bundle changed/)
      expect(watcher.logs()).toMatch(/publisher: published \(refresh/)
    } finally {
      expect(await watcher.stop()).toBe(0)
    }
    expect(watcher.logs()).toMatch(/publisher: stopped after \d+ publication/)
  }, 60_000)
})

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    try {
      if (cond()) return true
    } catch {
      /* file in flux */
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return false
}
