import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {verifyKeyFromPem} from '../../src/lib/bundle/keys.js'
import {verifyToken} from '../../src/lib/bundle/verify.js'
import {bundlePem} from '../helpers/bundle-fixtures.js'
import {runCli} from '../helpers/cli.js'
import {httpRequest, startService, type Service} from '../helpers/service.js'
import {startSwtpm, type Swtpm} from '../helpers/swtpm.js'

let dir: string
let tpm: Swtpm
let svc: Service | undefined
const sock = () => join(dir, 'unix.sock')
const target = () => join(dir, 'www', 'spiffetrustbundle.token')

async function start(): Promise<Service> {
  // Ready = answers (the stale socket file of a killed server exists before the new one listens).
  const answers = () => httpRequest({socketPath: sock(), path: '/'}).then(() => true, () => false)
  return startService(['signer', 'unix', '--config', 'signer-unix.conf', '--tcti', tpm.tcti], {cwd: dir, env: {HOME: dir}, ready: answers})
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trustctl-crash-'))
  tpm = await startSwtpm()
  expect((await runCli(['tpm', 'provision', '--tcti', tpm.tcti], {cwd: dir, env: {HOME: dir}})).code).toBe(0)
  writeFileSync(join(dir, 'signer-unix.conf'), `socket: ${sock()}\ntpm-address: 0x81008006\nduration: 1h\ndir: www\n`)
}, 60_000)
afterAll(async () => {
  await svc?.stop('SIGKILL')
  await tpm?.stop()
  rmSync(dir, {recursive: true, force: true})
})

describe('publish under SIGKILL', () => {
  it('200 publish cycles with signer unix killed at random moments: the token file is absent, previous or new, never torn or empty, and always verifies', async () => {
    svc = await start()
    const pub = verifyKeyFromPem('tpm.pem', (await runCli(['tpm', 'pubkey', '--tcti', tpm.tcti], {cwd: dir, env: {HOME: dir}})).stdout)
    // Ten distinct tokens, signed by the service itself.
    const tokens: string[] = []
    for (let i = 0; i < 10; i++) {
      const r = await httpRequest({socketPath: sock(), method: 'POST', path: '/sign', body: bundlePem(`td${i}.example.org`)})
      expect(r.status).toBe(200)
      tokens.push(r.body)
    }
    const known = new Set(tokens)
    let kills = 0
    let published = 0
    let previous: string | undefined
    for (let cycle = 0; cycle < 200; cycle++) {
      const token = tokens[cycle % tokens.length]!
      const request = httpRequest({socketPath: sock(), method: 'POST', path: '/publish', body: token}).then((r) => {
        if (r.status !== 200) throw new Error(`cycle ${cycle}: publish answered ${r.status}: ${r.body}`)
        return r.status
      }, () => 'killed' as const)
      const kill = Math.random() < 0.25
      if (kill) {
        await new Promise((r) => setTimeout(r, Math.random() * 15))
        svc.proc.kill('SIGKILL')
        kills++
      }
      const outcome = await request
      if (outcome === 200) published++
      if (existsSync(target())) {
        const text = readFileSync(target(), 'utf8')
        expect(text.length, `cycle ${cycle}: empty token file`).toBeGreaterThan(0)
        expect(known.has(text), `cycle ${cycle}: torn or unknown content (${text.length} bytes)`).toBe(true)
        expect(text === token || text === previous, `cycle ${cycle}: neither the previous nor the new token`).toBe(true)
        expect(verifyToken(text, {chain: [pub]}).bundle).toContain('BEGIN CERTIFICATE')
        previous = text
      } else {
        expect(previous, `cycle ${cycle}: the token file vanished after a publication`).toBeUndefined()
      }
      if (kill) {
        await svc.exited
        svc = await start() // restarts over the stale socket
      }
    }
    expect(kills).toBeGreaterThan(20)
    expect(published).toBeGreaterThan(100)
  }, 240_000)
})
