import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {json, runCli, runCliInTerminal} from '../helpers/cli.js'
import {startKeylime} from '../emulators/keylime/server.js'

type KL = Awaited<ReturnType<typeof startKeylime>>
let kl: KL
let dir: string
const U = {
  pass: '11111111-1111-4111-8111-111111111111',
  failed: '22222222-2222-4222-8222-222222222222',
  old: '33333333-3333-4333-8333-333333333333',
  gone: '44444444-4444-4444-8444-444444444444',
  other: '55555555-5555-4555-8555-555555555555',
}

beforeAll(async () => {
  kl = await startKeylime({
    agents: [
      {uuid: U.pass, state: 3},
      {uuid: U.failed, state: 7},
      {uuid: U.old, versions: ['2.1'], state: 3},
      {uuid: U.gone, unreachable: true, state: 3},
      {uuid: U.other, state: 4},
    ],
  })
  dir = mkdtempSync(join(tmpdir(), 'trustctl-kl-'))
  writeFileSync(join(dir, 'ca.pem'), kl.ca.certPem)
  writeFileSync(join(dir, 'client.pem'), kl.client.certPem)
  writeFileSync(join(dir, 'client.key'), kl.client.keyPem)
  writeFileSync(join(dir, 'other.pem'), kl.otherClient.certPem)
  writeFileSync(join(dir, 'other.key'), kl.otherClient.keyPem)
}, 60_000)
afterAll(async () => {
  await kl?.stop()
  rmSync(dir, {recursive: true, force: true})
})

const agentOf = (uuid: string) => kl.agents.find((a) => a.uuid === uuid)!
const base = () => ['--verifier-host', '127.0.0.1', '--verifier-port', String(kl.verifier.port), '--registrar-host', '127.0.0.1', '--registrar-port', String(kl.registrar.port), '--ca-file', 'ca.pem', '--cert', 'client.pem', '--key', 'client.key']
const onAgent = (uuid: string) => ['--agent-host', '127.0.0.1', '--agent-port', String(agentOf(uuid).port)]
const kcli = (args: string[]) => runCli(['keylime', ...args, ...base()], {cwd: dir, env: {HOME: dir}})

describe('keylime agent', () => {
  it('info: UUID, algorithms, AK handle', async () => {
    const r = await kcli(['agent', 'info', ...onAgent(U.pass), '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(json(r)).toMatchObject({uuid: U.pass, hashAlg: 'sha256', apiVersion: expect.stringMatching(/^2\.[2-9]/)})
  })

  it('info on a 2.1-only agent: exit 2 suggesting --agent-uuid (version negotiation picked 2.1)', async () => {
    const r = await kcli(['agent', 'info', ...onAgent(U.old), '--json'])
    expect(r.code).toBe(2)
    expect(json(r).error).toMatchObject({code: 'NOT_SUPPORTED', message: expect.stringContaining('API 2.1')})
    expect(json(r).error.suggestions[0]).toContain('--agent-uuid')
  })

  it('an unreachable agent is exit 7', async () => {
    const r = await kcli(['agent', 'info', ...onAgent(U.gone), '--json', '--timeout', '2s'])
    expect(r.code).toBe(7)
    expect(json(r).error.code).toBe('UNREACHABLE')
  })

  it('quote with a generated nonce; a nonce with + or 65 characters is exit 2 before any request', async () => {
    const ok = await kcli(['agent', 'quote', ...onAgent(U.pass), '--json'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(json(ok)).toMatchObject({nonce: expect.stringMatching(/^[A-Z2-7]{32}$/), quote: expect.stringMatching(/^r/)})
    const before = kl.requests.length
    for (const nonce of ['abc+def', 'x'.repeat(65)]) {
      const r = await kcli(['agent', 'quote', ...onAgent(U.pass), '--nonce', nonce, '--json'])
      expect(r.code).toBe(2)
      expect(json(r).error.code).toBe('INVALID_NONCE')
    }
    expect(kl.requests.length).toBe(before)
  })
})

describe('keylime verifier and registrar', () => {
  it('status: passing 0; failed state exit 6; unknown UUID exit 3', async () => {
    const ok = await kcli(['verifier', 'status', U.pass, '--json'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(json(ok)).toMatchObject({operationalState: 3, stateName: 'Get Quote', passesPluginRule: true})
    const failed = await kcli(['verifier', 'status', U.failed, '--json'])
    expect(failed.code).toBe(6)
    expect(json(failed).error.message).toMatch(/state 7 \(Failed\)/)
    const unknown = await kcli(['verifier', 'status', '99999999-9999-4999-8999-999999999999', '--json'])
    expect(unknown.code).toBe(3)
  })

  it('without a client certificate (or with one from another CA): exit 4 with a hint', async () => {
    const args = ['keylime', 'verifier', 'status', U.pass, '--verifier-port', String(kl.verifier.port), '--ca-file', 'ca.pem', '--json']
    const none = await runCli(args, {cwd: dir, env: {HOME: dir}})
    expect(none.code).toBe(4)
    expect(json(none).error.suggestions.join(' ')).toMatch(/--cert and --key/)
    const wrong = await runCli([...args, '--cert', 'other.pem', '--key', 'other.key'], {cwd: dir, env: {HOME: dir}})
    expect(wrong.code).toBe(4)
  })

  it('bad connection inputs are exit 2 before any request: a port out of range, --cert without --key, an agent ID Keylime would refuse', async () => {
    const before = kl.requests.length
    const port = await kcli(['agent', 'info', '--agent-port', '70000', '--json'])
    expect(port.code).toBe(2)
    expect(json(port).error.message).toBe('--agent-port: 70000 is not a TCP port (1-65535)')
    const half = await runCli(['keylime', 'verifier', 'status', U.pass, '--verifier-port', String(kl.verifier.port), '--ca-file', 'ca.pem', '--cert', 'client.pem', '--json'], {cwd: dir, env: {HOME: dir}})
    expect(half.code).toBe(2)
    expect(json(half).error.message).toMatch(/needs both --cert and --key \(missing --key\)/)
    for (const args of [['verifier', 'status', '../x'], ['registrar', 'show', 'a b'], ['attest', '--trust-domain', 'example.org', '--agent-uuid', '../../evil']]) {
      const r = await kcli([...args, '--json'])
      expect(r.code, args.join(' ')).toBe(2)
      expect(json(r).error.code).toBe('INVALID_AGENT_ID')
    }
    expect(kl.requests.length).toBe(before)
  })

  it('attest keeps the exit code of a non-Keylime failure (a missing --ca-file is 3), naming the step', async () => {
    const r = await runCli(['keylime', 'attest', '--trust-domain', 'example.org', ...onAgent(U.pass), '--verifier-port', String(kl.verifier.port), '--ca-file', 'nope.pem', '--cert', 'client.pem', '--key', 'client.key', '--json'], {cwd: dir, env: {HOME: dir}})
    expect(r.code).toBe(3)
    expect(json(r).error.message).toMatch(/^attestation failed at step 2 \(verifier state\): .*nope\.pem/)
  })

  it('list shows every agent with its state and verdict', async () => {
    const r = await kcli(['verifier', 'list', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const by = Object.fromEntries(json(r).agents.map((a: any) => [a.uuid, a]))
    expect(by[U.pass]).toMatchObject({operationalState: 3, passesPluginRule: true})
    expect(by[U.other]).toMatchObject({operationalState: 4, passesPluginRule: true})
    expect(by[U.failed]).toMatchObject({operationalState: 7, passesPluginRule: false})
  })

  it('registrar show and list; unknown is exit 3', async () => {
    const show = await kcli(['registrar', 'show', U.pass, '--json'])
    expect(show.code, show.stderr).toBe(0)
    expect(json(show)).toMatchObject({uuid: U.pass, aik_tpm: expect.any(String)})
    const list = await kcli(['registrar', 'list', '--json'])
    expect(json(list).uuids).toEqual(expect.arrayContaining([U.pass, U.failed, U.old]))
    expect((await kcli(['registrar', 'show', '99999999-9999-4999-8999-999999999999', '--json'])).code).toBe(3)
  })
})

describe('keylime attest: the SPIRE plugin flow', () => {
  it('passes and prints the SPIFFE ID', async () => {
    const r = await kcli(['attest', ...onAgent(U.pass), '--trust-domain', 'example.org', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(json(r)).toMatchObject({passed: true, spiffeId: `spiffe://example.org/spire/agent/keylime/${U.pass}`})
    expect(json(r).steps.map((s: any) => s.name)).toEqual(['agent info', 'verifier state', 'nonce', 'identity quote', 'verify identity'])
  })

  it('fails at each step, naming it', async () => {
    const step = async (args: string[], exit: number, n: number, name: string) => {
      const r = await kcli(['attest', '--trust-domain', 'example.org', '--json', '--timeout', '2s', ...args])
      expect(r.code, r.stdout).toBe(exit)
      expect(json(r).error.message).toContain(`step ${n} (${name})`)
      expect(json(r).error.details.steps.at(-1)).toMatchObject({step: n, ok: false})
    }
    await step(onAgent(U.gone), 7, 1, 'agent info')
    await step(onAgent(U.failed), 6, 2, 'verifier state')
    // More errors than the client's one GET retry, so the quote step really fails.
    kl.faults.agentErrors = 4
    try {
      await step([...onAgent(U.pass), '--agent-uuid', U.pass], 7, 4, 'identity quote')
    } finally {
      kl.faults.agentErrors = 0
    }
    // The quote comes from one agent but is checked against another agent's AK: invalid.
    await step([...onAgent(U.pass), '--agent-uuid', U.other], 6, 5, 'verify identity')
  })
})

describe('keylime fleet status', () => {
  it('500 agents, 5% failing, two duplicate UUIDs: exact counts', async () => {
    const specs = Array.from({length: 500}, (_, i) => ({
      uuid: `aaaaaaaa-0000-4000-8000-${String(i).padStart(12, '0')}`,
      state: i % 20 === 0 ? 7 : 3, // 25 agents failing
      ...(i === 100 ? {reportUuid: `aaaaaaaa-0000-4000-8000-${String(101).padStart(12, '0')}`, inVerifier: false, registered: false} : {}),
      ...(i === 200 ? {reportUuid: `aaaaaaaa-0000-4000-8000-${String(201).padStart(12, '0')}`, inVerifier: false, registered: false} : {}),
    }))
    const fleet = await startKeylime({agents: specs})
    const fdir = mkdtempSync(join(tmpdir(), 'trustctl-fleet-'))
    try {
      writeFileSync(join(fdir, 'agents.txt'), fleet.agents.map((a) => `127.0.0.1:${a.port}`).join('\n'))
      for (const [f, v] of [['ca.pem', fleet.ca.certPem], ['client.pem', fleet.client.certPem], ['client.key', fleet.client.keyPem]] as const) writeFileSync(join(fdir, f), v)
      const r = await runCli(
        ['keylime', 'fleet', 'status', '--agents', 'agents.txt', '--concurrency', '64', '--verifier-port', String(fleet.verifier.port), '--registrar-port', String(fleet.registrar.port), '--ca-file', 'ca.pem', '--cert', 'client.pem', '--key', 'client.key', '--json'],
        {cwd: fdir, env: {HOME: fdir}, timeoutMs: 120_000},
      )
      expect(r.code, r.stderr).toBe(0)
      const {summary} = json(r)
      // 25 agents are in state 7, but two of them (100, 200) report the UUIDs of passing agents 101 and 201.
      expect(summary).toMatchObject({agents: 500, reachable: 500, unreachable: 0, passing: 477, notPassing: 23, notInVerifier: 0, passingWithoutReachableAgent: []})
      expect(summary.duplicateUuids.map((d: any) => d.uuid).sort()).toEqual([`aaaaaaaa-0000-4000-8000-${String(101).padStart(12, '0')}`, `aaaaaaaa-0000-4000-8000-${String(201).padStart(12, '0')}`])
      expect(summary.duplicateUuids.every((d: any) => d.endpoints.length === 2)).toBe(true)
    } finally {
      await fleet.stop()
      rmSync(fdir, {recursive: true, force: true})
    }
  }, 180_000)

  it('--from-verifier: unreachable agents, agents without /agent/info, passing UUIDs with no agent; human output names them', async () => {
    const r = await kcli(['fleet', 'status', '--from-verifier', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const {summary, agents} = json(r)
    // pass (3) and other (4) pass; failed (7) does not; old speaks only 2.1 (no /agent/info); gone is down.
    expect(summary).toMatchObject({agents: 5, reachable: 4, unreachable: 1, failed: 1, passing: 2, notPassing: 1, notInVerifier: 0, notRegistered: 0, duplicateUuids: []})
    expect([...summary.passingWithoutReachableAgent].sort()).toEqual([U.old, U.gone].sort())
    const row = (uuid: string) => agents.find((a: any) => a.port === agentOf(uuid).port)
    expect(row(U.gone)).toMatchObject({reachable: false, uuid: null, error: expect.stringMatching(/connection refused/)})
    expect(row(U.old)).toMatchObject({reachable: true, uuid: null, error: expect.stringMatching(/API 2\.1/)})
    expect(row(U.failed)).toMatchObject({reachable: true, uuid: U.failed, verifierState: 7, passes: false, registered: true})

    const human = await kcli(['fleet', 'status', '--from-verifier'])
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toContain('agents 5: reachable 4, unreachable 1, no UUID 1; passing 2, not passing 1')
    expect(human.stdout).toContain(`UNREACHABLE 127.0.0.1:${agentOf(U.gone).port}: `)
    expect(human.stdout).toContain(`passing in the verifier but no reachable agent: ${U.gone}`)
  })

  it('a failing registrar list is said, and registrar presence is unknown (null), not "not registered"', async () => {
    kl.faults.registrarErrors = 10
    try {
      const r = await kcli(['fleet', 'status', '--from-verifier', '--json'])
      expect(r.code, r.stderr).toBe(0)
      const {summary, agents} = json(r)
      expect(summary.registrarError).toMatch(/registrar/)
      expect(summary.notRegistered).toBe(0)
      expect(agents.filter((a: any) => a.uuid).every((a: any) => a.registered === null)).toBe(true)
    } finally {
      kl.faults.registrarErrors = 0
    }
  })

  it('shows a progress line on a terminal (stderr), none under --json', async () => {
    const file = join(dir, 'some-agents.txt')
    writeFileSync(file, [U.pass, U.failed, U.other].map((u) => `127.0.0.1:${agentOf(u).port}`).join('\n'))
    const r = await runCliInTerminal(['keylime', 'fleet', 'status', '--agents', file, ...base()], {cwd: dir, env: {HOME: dir}})
    expect(r.code, r.stdout).toBe(0)
    expect(r.stdout).toContain('Checking 3 Keylime agents: 3/3')
    expect(r.stdout).toContain('agents 3: reachable 3, unreachable 0, no UUID 0; passing 2, not passing 1')
    expect(r.stdout).toContain('\u001b[32m') // the green tick
    const plain = await runCliInTerminal(['keylime', 'fleet', 'status', '--agents', file, '--no-color', ...base()], {cwd: dir, env: {HOME: dir}})
    expect(plain.code, plain.stdout).toBe(0)
    expect(plain.stdout).toContain('Checking 3 Keylime agents: 3/3')
    for (const sgr of ['\u001b[31m', '\u001b[32m', '\u001b[33m', '\u001b[34m', '\u001b[36m']) expect(plain.stdout).not.toContain(sgr)
    const quiet = await runCliInTerminal(['keylime', 'fleet', 'status', '--agents', file, '--json', ...base()], {cwd: dir, env: {HOME: dir}})
    expect(quiet.code, quiet.stdout).toBe(0)
    expect(quiet.stdout).not.toContain('Checking')
    expect(quiet.stdout).toContain('"reachable": 3')
  })

  it('bad agent lists and an unreachable verifier are clear errors', async () => {
    writeFileSync(join(dir, 'bad.txt'), `127.0.0.1:${agentOf(U.pass).port}\n# a comment\nnot-an-endpoint\n`)
    const bad = await kcli(['fleet', 'status', '--agents', 'bad.txt'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('bad.txt: "not-an-endpoint" is not host:port (line 3)')
    writeFileSync(join(dir, 'bad.json'), '[{"host": "127.0.0.1"')
    expect((await kcli(['fleet', 'status', '--agents', 'bad.json'])).stderr).toContain('bad.json: not valid JSON')
    writeFileSync(join(dir, 'null.json'), '[null]')
    const nul = await kcli(['fleet', 'status', '--agents', 'null.json'])
    expect(nul.code).toBe(2)
    expect(nul.stderr).toContain('null.json: item 1 is neither "host:port" nor {"host", "port"}')
    writeFileSync(join(dir, 'empty.txt'), '# nothing here\n')
    const empty = await kcli(['fleet', 'status', '--agents', 'empty.txt'])
    expect(empty.code).toBe(2)
    expect(empty.stderr).toContain('no agents to check')
    const missing = await kcli(['fleet', 'status', '--agents', 'nope.txt'])
    expect(missing.code).toBe(3)
    expect(missing.stderr).toContain('nope.txt')
    const both = await kcli(['fleet', 'status', '--agents', 'bad.txt', '--from-verifier'])
    expect(both.code).toBe(2)
    writeFileSync(join(dir, 'one.txt'), `127.0.0.1:${agentOf(U.pass).port}\n`)
    const downVerifier = base().map((a) => (a === String(kl.verifier.port) ? String(agentOf(U.gone).port) : a))
    const down = await runCli(['keylime', 'fleet', 'status', '--agents', 'one.txt', ...downVerifier, '--json'], {cwd: dir, env: {HOME: dir}})
    expect(down.code).toBe(7)
    expect(json(down).error.message).toContain(`127.0.0.1:${agentOf(U.gone).port}`)
    for (const r of [bad, empty, missing, both]) expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
