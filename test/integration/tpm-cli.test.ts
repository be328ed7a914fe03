import {execFileSync} from 'node:child_process'
import {createHash, verify} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {json, runCli, runCliInTerminal, type CliResult} from '../helpers/cli.js'
import {startSwtpm, tpm2, type Swtpm} from '../helpers/swtpm.js'

// One software TPM for this file; tests run in order and build on each other's state.
let tpm: Swtpm
let work: string
beforeAll(async () => {
  tpm = await startSwtpm()
  work = mkdtempSync(join(tmpdir(), 'trustctl-tpm-'))
})
afterAll(async () => {
  await tpm?.stop()
  rmSync(work, {recursive: true, force: true})
})

const cli = (args: string[], extra: {input?: string; env?: Record<string, string | undefined>} = {}) =>
  runCli([...args, '--tcti', tpm.tcti], {cwd: work, input: extra.input, env: {HOME: work, ...extra.env}})

async function bothModes(args: string[]): Promise<{human: CliResult; machine: CliResult}> {
  const human = await cli(args)
  const machine = await cli([...args, '--json'])
  expect(machine.code).toBe(human.code)
  return {human, machine}
}

async function persistent(): Promise<string[]> {
  return (await tpm2(tpm, 'tpm2_getcap', ['handles-persistent'])).split('\n').filter(Boolean).map((l) => l.replace('- ', '').toLowerCase())
}

describe('tpm provision / status / pubkey / sign against swtpm', () => {
  it('status on an empty TPM: reachable, no keys', async () => {
    const r = await cli(['tpm', 'status', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const s = json(r)
    expect(s).toMatchObject({tcti: tpm.tcti, reachable: true, persistentHandles: [], srk: {present: false}, key: {present: false}})
    expect(s.tpm.manufacturer).toBe('IBM')
  })

  it('--dry-run prints the tpm2 commands and changes nothing', async () => {
    const r = await cli(['tpm', 'provision', '--dry-run', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const plan = json(r)
    expect(plan).toMatchObject({dryRun: true, srk: {status: 'created'}, key: {status: 'created'}})
    expect(plan.commands.map((c: string) => c.split(' ')[1])).toEqual(['tpm2_createprimary', 'tpm2_evictcontrol', 'tpm2_create', 'tpm2_load', 'tpm2_evictcontrol'])
    expect(await persistent()).toEqual([])
  })

  it('provision on an empty TPM creates the storage key and the signing key', async () => {
    const r = await cli(['tpm', 'provision', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(json(r)).toMatchObject({srk: {handle: '0x81000001', status: 'created'}, key: {handle: '0x81008006', status: 'created'}})
    expect(await persistent()).toEqual(['0x81000001', '0x81008006'])
    // No transient object left behind (swtpm has three slots).
    expect((await tpm2(tpm, 'tpm2_getcap', ['handles-transient'])).trim()).toBe('')
    const pub = await tpm2(tpm, 'tpm2_readpublic', ['-c', '0x81008006'])
    expect(pub).toMatch(/type:\s+value: rsa/)
    expect(pub).toMatch(/bits: 2048/)
    expect(pub).toMatch(/scheme:\s+value: rsassa/)
  })

  it('a second run reports unchanged and changes nothing', async () => {
    const before = await tpm2(tpm, 'tpm2_readpublic', ['-c', '0x81008006', '-Q', '-o', join(work, 'before.pem'), '-f', 'pem'])
    const r = await cli(['tpm', 'provision'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('storage key 0x81000001: unchanged')
    expect(r.stdout).toContain('signing key 0x81008006: unchanged')
    await tpm2(tpm, 'tpm2_readpublic', ['-c', '0x81008006', '-Q', '-o', join(work, 'after.pem'), '-f', 'pem'])
    expect(readFileSync(join(work, 'after.pem'), 'utf8')).toBe(readFileSync(join(work, 'before.pem'), 'utf8'))
    expect(before).toBe('')
  })

  it('status reports both keys, their kind and the fingerprint of the public key', async () => {
    const s = json(await cli(['tpm', 'status', '--json']))
    expect(s.srk).toMatchObject({present: true, expectedKind: true})
    expect(s.key).toMatchObject({present: true, expectedKind: true, public: {type: 'rsa', bits: 2048, scheme: 'rsassa', schemeHalg: 'sha256'}})
    expect(s.key.public.attributes).toContain('sign')
    const der = execFileSync('openssl', ['pkey', '-pubin', '-in', join(work, 'after.pem'), '-outform', 'der'])
    expect(s.key.fingerprintSha256).toBe(createHash('sha256').update(der).digest('hex'))
  })

  it('pubkey equals what tpm2_readpublic -f pem exports, and writes every --out atomically 0644', async () => {
    const r = await cli(['tpm', 'pubkey'])
    expect(r.code).toBe(0)
    const ref = readFileSync(join(work, 'after.pem'), 'utf8')
    expect(r.stdout).toBe(ref.endsWith('\n') ? ref : `${ref}\n`)
    const main = join(work, 'keys', 'main.pem')
    const backup = join(work, 'keys', 'backup.pem')
    const w = await cli(['tpm', 'pubkey', '--out', main, '--out', backup, '--json'])
    expect(w.code, w.stderr).toBe(0)
    expect(json(w).files.map((f: {status: string}) => f.status)).toEqual(['created', 'created'])
    for (const f of [main, backup]) {
      expect(readFileSync(f, 'utf8')).toBe(ref)
      expect(statSync(f).mode & 0o777).toBe(0o644)
    }
    // Re-running is a no-op; a file holding something else needs --force.
    expect(json(await cli(['tpm', 'pubkey', '--out', main, '--json'])).files[0].status).toBe('unchanged')
    writeFileSync(backup, 'other key')
    const clash = await cli(['tpm', 'pubkey', '--out', backup])
    expect(clash.code).toBe(8)
    expect(readFileSync(backup, 'utf8')).toBe('other key')
    expect(json(await cli(['tpm', 'pubkey', '--out', backup, '--force', '--json'])).files[0].status).toBe('replaced')
  })

  it('signatures verify with node crypto and openssl; data and its digest give the same signature', async () => {
    const msg = 'the trust bundle, or anything else\n'
    writeFileSync(join(work, 'msg.txt'), msg)
    const pem = readFileSync(join(work, 'after.pem'), 'utf8')
    const data = await cli(['tpm', 'sign', '--in', join(work, 'msg.txt'), '--json'])
    expect(data.code, data.stderr).toBe(0)
    const sig = Buffer.from(json(data).signature, 'base64')
    expect(sig).toHaveLength(256)
    expect(verify('sha256', Buffer.from(msg), pem, sig)).toBe(true)
    writeFileSync(join(work, 'sig.bin'), sig)
    expect(execFileSync('openssl', ['dgst', '-sha256', '-verify', join(work, 'after.pem'), '-signature', join(work, 'sig.bin'), join(work, 'msg.txt')]).toString()).toContain('Verified OK')

    const digest = createHash('sha256').update(msg).digest()
    const viaDigest = await cli(['tpm', 'sign', '--digest', '--format', 'base64url'], {input: digest.toString('hex')})
    expect(viaDigest.code, viaDigest.stderr).toBe(0)
    expect(Buffer.from(viaDigest.stdout.trim(), 'base64url').equals(sig)).toBe(true)
    // And identical to what tpm2_sign itself produces (PKCS#1 v1.5 is deterministic).
    writeFileSync(join(work, 'dig.bin'), digest)
    await tpm2(tpm, 'tpm2_sign', ['-c', '0x81008006', '-g', 'sha256', '-s', 'rsassa', '-d', '-f', 'plain', '-o', join(work, 'ref.sig'), join(work, 'dig.bin')])
    expect(readFileSync(join(work, 'ref.sig')).equals(sig)).toBe(true)
  })

  it('a digest of the wrong size is exit 2', async () => {
    const r = await cli(['tpm', 'sign', '--digest', '--json'], {input: 'abcd'})
    expect(r.code).toBe(2)
    expect(json(r).error.code).toBe('INVALID_DIGEST')
  })

  it('two (and four) concurrent sign processes all succeed', async () => {
    const runs = await Promise.all([0, 1, 2, 3].map((i) => cli(['tpm', 'sign', '--json'], {input: `message ${i}`})))
    for (const r of runs) expect(r.code, r.stderr).toBe(0)
    // Mixed with a tpm2-tools based command at the same time.
    const mixed = await Promise.all([cli(['tpm', 'status', '--json']), cli(['tpm', 'sign'], {input: 'x'}), cli(['tpm', 'pubkey']), cli(['tpm', 'sign'], {input: 'y'})])
    for (const r of mixed) expect(r.code, r.stderr).toBe(0)
  })

  it('a missing handle is exit 3 in both modes, for sign, pubkey and status', async () => {
    for (const args of [['tpm', 'sign', '--handle', '0x81008007', '--in', join(work, 'msg.txt')], ['tpm', 'pubkey', '--handle', '0x81008007']]) {
      const {human, machine} = await bothModes(args)
      expect(human.code).toBe(3)
      expect(human.stderr.split('\n')[0]).toMatch(/^Error: no object at handle 0x81008007/)
      expect(json(machine).error).toMatchObject({code: 'HANDLE_NOT_FOUND', exitCode: 3})
    }
    const st = json(await cli(['tpm', 'status', '--handle', '0x81008007', '--json']))
    expect(st.key).toMatchObject({handle: '0x81008007', present: false})
  })

  it('a bad handle is exit 2', async () => {
    const {human, machine} = await bothModes(['tpm', 'pubkey', '--handle', '0x80000001'])
    expect(human.code).toBe(2)
    expect(json(machine).error.code).toBe('INVALID_HANDLE')
  })

  it('a handle occupied by an ECC key is exit 8; --force replaces it with the RSA signing key', async () => {
    const ev = await cli(['tpm', 'evict', '--handle', '0x81008006', '--yes'])
    expect(ev.code, ev.stderr).toBe(0)
    await tpm2(tpm, 'tpm2_create', ['-Q', '-G', 'ecc256:ecdsa', '-g', 'sha256', '-u', 'ecc.pub', '-r', 'ecc.priv', '-C', '0x81000001'])
    await tpm2(tpm, 'tpm2_load', ['-Q', '-C', '0x81000001', '-u', 'ecc.pub', '-r', 'ecc.priv', '-c', 'ecc.ctx'])
    await tpm2(tpm, 'tpm2_evictcontrol', ['-Q', '-C', 'o', '-c', 'ecc.ctx', '0x81008006'])
    await tpm2(tpm, 'tpm2_flushcontext', ['-t'])
    const {human, machine} = await bothModes(['tpm', 'provision'])
    expect(human.code).toBe(8)
    expect(human.stderr).toMatch(/0x81008006 is occupied by ecc/)
    expect(json(machine).error).toMatchObject({code: 'WRONG_KEY_KIND', exitCode: 8})
    expect((await tpm2(tpm, 'tpm2_readpublic', ['-c', '0x81008006']))).toMatch(/value: ecc/)
    const forced = await cli(['tpm', 'provision', '--force', '--json'])
    expect(forced.code, forced.stderr).toBe(0)
    expect(json(forced)).toMatchObject({srk: {status: 'unchanged'}, key: {status: 'replaced'}})
    expect((await tpm2(tpm, 'tpm2_readpublic', ['-c', '0x81008006']))).toMatch(/value: rsa/)
  })

  it('evict refuses the storage key, needs --yes without a terminal, and honours --dry-run', async () => {
    const srk = await bothModes(['tpm', 'evict', '--handle', '0x81000001', '--yes'])
    expect(srk.human.code).toBe(2)
    expect(json(srk.machine).error.code).toBe('REFUSED')
    const noYes = await cli(['tpm', 'evict', '--handle', '0x81008006'])
    expect(noYes.code).toBe(2)
    expect(noYes.stderr).toContain('--yes')
    const dry = await cli(['tpm', 'evict', '--handle', '0x81008006', '--dry-run', '--json'])
    expect(json(dry)).toMatchObject({handle: '0x81008006', dryRun: true})
    expect(await persistent()).toContain('0x81008006')
    const missing = await cli(['tpm', 'evict', '--handle', '0x81008007', '--yes', '--json'])
    expect(missing.code).toBe(3)
  })

  it('evict asks on a terminal: "no" keeps the key (exit 2), "yes" evicts it', async () => {
    const ask = /Evict the key at 0x81008006 .*This cannot be undone/
    const no = await runCliInTerminal(['tpm', 'evict', '--handle', '0x81008006', '--tcti', tpm.tcti], {cwd: work, env: {HOME: work}, answers: [{when: ask, send: 'n\r'}]})
    expect(no.code, no.stdout).toBe(2)
    expect(no.stdout).toContain('not evicted: cancelled at the prompt')
    expect(await persistent()).toContain('0x81008006')
    const yes = await runCliInTerminal(['tpm', 'evict', '--handle', '0x81008006', '--tcti', tpm.tcti], {cwd: work, env: {HOME: work}, answers: [{when: ask, send: 'y\r'}]})
    expect(yes.code, yes.stdout).toBe(0)
    expect(yes.stdout).toContain('evicted 0x81008006')
    expect(await persistent()).not.toContain('0x81008006')
    const again = await cli(['tpm', 'provision', '--json'])
    expect(json(again)).toMatchObject({key: {status: 'created'}})
  })

  it('a stopped TPM (SIGSTOP) gives a timeout error, not a hang; it works again once resumed', async () => {
    tpm.pause()
    try {
      const started = Date.now()
      const status = await cli(['tpm', 'status', '--tpm-timeout', '1s', '--json'])
      const sign = await cli(['tpm', 'sign', '--tpm-timeout', '1s', '--json'], {input: 'x'})
      expect(Date.now() - started).toBeLessThan(20_000)
      for (const r of [status, sign]) {
        expect(r.code).toBe(5)
        expect(json(r).error.code).toBe('TPM_TIMEOUT')
        expect(json(r).error.message).toContain(tpm.tcti)
      }
    } finally {
      tpm.resume()
    }
    const again = await cli(['tpm', 'sign'], {input: 'x'})
    expect(again.code, again.stderr).toBe(0)
  })

  it('doctor: the TPM and both keys are ok', async () => {
    const r = await cli(['doctor', '--json'])
    expect(r.code, r.stdout).toBe(0)
    const names = json(r).checks.map((c: {name: string; status: string}) => `${c.name}:${c.status}`)
    expect(names).toEqual(expect.arrayContaining(['tpm:ok', 'storage key:ok', 'signing key:ok']))
  })
})

describe('no TPM at the TCTI', () => {
  it('is exit 5 naming the TCTI, in both modes, for every command', async () => {
    const tcti = `swtpm:path=${join(tmpdir(), 'no-such-dir', 'sock')}`
    for (const args of [['tpm', 'status'], ['tpm', 'provision'], ['tpm', 'pubkey'], ['tpm', 'sign', '--in', '/etc/hostname']]) {
      const human = await runCli([...args, '--tcti', tcti])
      const machine = await runCli([...args, '--tcti', tcti, '--json'])
      expect(human.code, args.join(' ')).toBe(5)
      expect(machine.code).toBe(5)
      expect(human.stderr.split('\n')[0]).toContain(tcti)
      expect(json(machine).error).toMatchObject({code: 'TCTI_UNAVAILABLE', exitCode: 5})
    }
    const doctor = await runCli(['doctor', '--tcti', tcti, '--json'])
    expect(doctor.code).toBe(5)
    expect(json(doctor).error.code).toBe('TPM_UNREACHABLE')
  })

  it('tpm2-tools missing is exit 5 naming the Debian package (tools transport)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustctl-nopath-'))
    try {
      const {symlinkSync} = await import('node:fs')
      symlinkSync(process.execPath, join(dir, 'node'))
      const r = await runCli(['tpm', 'status', '--tcti', 'swtpm:path=/x/sock', '--json'], {cleanEnv: true, env: {PATH: dir, HOME: dir, TRUSTCTL_TPM_TRANSPORT: 'tools'}})
      expect(r.code).toBe(5)
      expect(json(r).error).toMatchObject({code: 'TOOL_MISSING', suggestions: ['apt-get install tpm2-tools']})
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('the TCTI comes from TPM2TOOLS_TCTI when no flag is given', async () => {
    const tcti = 'swtpm:path=/nonexistent/from-env.sock'
    const r = await runCli(['tpm', 'status', '--json'], {env: {TPM2TOOLS_TCTI: tcti}})
    expect(json(r).error.message).toContain(tcti)
  })
})

describe('owner authorization', () => {
  it('an owner password on the TPM: exit 4 naming --owner-auth-file without it, success with it', async () => {
    const locked = await startSwtpm()
    const dir = mkdtempSync(join(tmpdir(), 'trustctl-auth-'))
    try {
      await tpm2(locked, 'tpm2_changeauth', ['-c', 'o', 'owner-secret-pw'])
      const run = (extra: string[]) => runCli(['tpm', 'provision', '--tcti', locked.tcti, ...extra], {cwd: dir, env: {HOME: dir}})
      const human = await run([])
      const machine = await run(['--json'])
      expect(human.code).toBe(4)
      expect(machine.code).toBe(4)
      expect(human.stderr).toContain('--owner-auth-file')
      expect(json(machine).error.code).toBe('AUTH_FAILED')
      writeFileSync(join(dir, 'owner.pw'), 'owner-secret-pw\n', {mode: 0o600})
      const ok = await run(['--owner-auth-file', join(dir, 'owner.pw'), '--json'])
      expect(ok.code, ok.stderr).toBe(0)
      expect(json(ok)).toMatchObject({srk: {status: 'created'}, key: {status: 'created'}})
      expect(`${ok.stdout}${ok.stderr}`).not.toContain('owner-secret-pw')
    } finally {
      await locked.stop()
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
