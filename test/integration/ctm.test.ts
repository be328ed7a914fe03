import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CtmClient} from '../../src/lib/ciphertrust/client.js'
import {json, runCli, runCliInTerminal} from '../helpers/cli.js'
import {startEmulator} from '../emulators/ciphertrust/server.js'

type Emu = Awaited<ReturnType<typeof startEmulator>>
let emu: Emu
let tls: Emu
let dir: string
const ADMIN_PW = 'Adm1n-Secret-Pw'

beforeAll(async () => {
  emu = await startEmulator({users: [{username: 'admin', password: ADMIN_PW}]})
  tls = await startEmulator({https: true, users: [{username: 'admin', password: ADMIN_PW}]})
  dir = mkdtempSync(join(tmpdir(), 'trustctl-ctm-'))
  writeFileSync(join(dir, 'admin.pw'), `${ADMIN_PW}\n`, {mode: 0o600})
  writeFileSync(join(dir, 'kes-user.pw'), 'Kes-User-Pw-1!\n', {mode: 0o600})
  // The KES tutorial's files.
  writeFileSync(join(dir, 'kes-policy.json'), JSON.stringify({allow: true, name: 'kes-policy', actions: ['CreateKey', 'ExportKey', 'ReadKey', 'DeleteKey'], resources: ['kylo:kylo:vault:secrets:*']}))
  writeFileSync(join(dir, 'kes-attachment.json'), JSON.stringify({cust: {groups: ['KES-Service']}}))
})
afterAll(async () => {
  await emu?.stop()
  await tls?.stop()
  rmSync(dir, {recursive: true, force: true})
})

const ctm = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli(['ctm', ...args], {cwd: dir, env: {HOME: dir, TRUSTCTL_CTM_URL: emu.url, TRUSTCTL_CTM_USERNAME: 'admin', TRUSTCTL_CTM_PASSWORD_FILE: join(dir, 'admin.pw'), ...env}})

async function kesTutorial(ifNotExists: boolean) {
  const x = ifNotExists ? ['--if-not-exists'] : []
  const group = await ctm(['groups', 'create', '--name', 'KES-Service', ...x, '--json'])
  const user = await ctm(['users', 'create', '--name', 'kes-user', '--pword-file', 'kes-user.pw', '--email', 'kes@example.com', ...x, '--json'])
  expect(user.code, user.stderr).toBe(0)
  const userId = json(user).object.user_id as string
  const add = await ctm(['groups', 'adduser', '--name', 'KES-Service', '--userid', userId, '--json'])
  const policy = await ctm(['policy', 'create', '--jsonfile', 'kes-policy.json', ...x, '--json'])
  const attach = await ctm(['polattach', 'create', '-p', 'kes-policy', '-g', 'kes-attachment.json', ...x, '--json'])
  const token = await ctm(['tokens', 'create', '--user', 'kes-user', '--password-file', 'kes-user.pw', '--issue-rt'])
  return {group, user, userId, add, policy, attach, token}
}

describe('the KES tutorial sequence, twice', () => {
  it('first run creates everything and prints a refresh token', async () => {
    const r = await kesTutorial(false)
    for (const step of [r.group, r.user, r.add, r.policy, r.attach, r.token]) expect(step.code, step.stderr).toBe(0)
    expect(json(r.group)).toMatchObject({status: 'created', object: {name: 'KES-Service'}})
    expect(r.userId).toMatch(/^local\|[0-9a-f-]{36}$/)
    expect(json(r.policy)).toMatchObject({status: 'created', object: {name: 'kes-policy'}})
    expect(json(r.attach)).toMatchObject({status: 'created', object: {principalSelector: {cust: {groups: ['KES-Service']}}}})
    expect(r.token.stdout.trim()).toMatch(/^[A-Za-z0-9]{20,}$/) // only the refresh token
    const members = json(await ctm(['users', 'list', '--group', 'KES-Service', '--json'])).resources
    expect(members.map((u: any) => u.username)).toEqual(['kes-user'])
  })

  it('without --if-not-exists a second create is exit 8 (conflict)', async () => {
    const r = await ctm(['groups', 'create', '--name', 'KES-Service', '--json'])
    expect(r.code).toBe(8)
    expect(json(r).error.code).toBe('CONFLICT')
  })

  it('the second run with --if-not-exists is all unchanged, exit 0', async () => {
    const r = await kesTutorial(true)
    for (const step of [r.group, r.user, r.policy, r.attach]) {
      expect(step.code, step.stderr).toBe(0)
      expect(json(step).status).toBe('unchanged')
    }
    expect(json(await ctm(['polattach', 'list', '--json'])).resources).toHaveLength(1)
  })
})

describe('the client against the emulator', () => {
  const client = (extra: Partial<Parameters<typeof CtmClient.connect>[0]> = {}) => CtmClient.connect({url: emu.url, username: 'admin', password: ADMIN_PW, ...extra})

  it('pages through 2,500 keys completely; a labels filter returns exactly the matching keys', async () => {
    emu.seedKeys(2500, (i: number) => ({name: `k-${i}`, labels: {team: i % 3 === 0 ? 'a' : 'b'}}))
    const c = await client()
    await c.login()
    const all = await c.list<{name: string}>('/api/v1/vault/keys2', 'keys')
    expect(new Set(all.filter((k) => k.name.startsWith('k-')).map((k) => k.name)).size).toBe(2500)
    const team = await c.list<{name: string; labels: Record<string, string>}>('/api/v1/vault/keys2', 'keys', {labels: 'team=a'})
    expect(team).toHaveLength(834)
    expect(team.every((k) => k.labels.team === 'a')).toBe(true)
  })

  it('re-logs in transparently when the JWT expires mid-run', async () => {
    const c = await client()
    await c.login()
    const logins = () => emu.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/api/v1/auth/tokens')).length
    const before = logins()
    emu.expireAllTokens()
    const groups = await c.list<{name: string}>('/api/v1/usermgmt/groups', 'groups')
    expect(groups.map((g) => g.name)).toContain('KES-Service')
    expect(logins()).toBe(before + 1)
  })

  it('GETs survive a burst of 5xx; a POST hit by a 5xx is not sent twice', async () => {
    const c = await client()
    await c.login()
    emu.faults.fail5xx = 2
    expect((await c.list('/api/v1/usermgmt/groups', 'groups')).length).toBeGreaterThan(0)
    const posts = () => emu.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/api/v1/usermgmt/groups')).length
    const before = posts()
    emu.faults.fail5xx = 1
    await expect(c.post('/api/v1/usermgmt/groups', 'create group', {json: {name: 'burst'}})).rejects.toMatchObject({code: 'UNAVAILABLE', exitCode: 7})
    expect(posts()).toBe(before + 1)
    emu.faults.fail5xx = 0
  })
})

describe('credentials and TLS', () => {
  it('a wrong password is exit 4 and appears in no output', async () => {
    const wrong = 'Wr0ng-Pa55word-Value'
    writeFileSync(join(dir, 'wrong.pw'), wrong)
    for (const extra of [[], ['--json']]) {
      const r = await ctm(['groups', 'list', ...extra], {TRUSTCTL_CTM_PASSWORD_FILE: join(dir, 'wrong.pw'), DEBUG: '1'})
      expect(r.code).toBe(4)
      expect(`${r.stdout}${r.stderr}`).not.toContain(wrong)
    }
  })

  it('self-signed HTTPS without --ca-file is a clear TLS error naming --ca-file; with it, success', async () => {
    const env = {TRUSTCTL_CTM_URL: tls.url}
    const bad = await ctm(['groups', 'list', '--json'], env)
    expect(bad.code).toBe(7)
    expect(json(bad).error).toMatchObject({code: 'TLS_UNTRUSTED'})
    expect(json(bad).error.suggestions.join(' ')).toContain('--ca-file')
    writeFileSync(join(dir, 'ctm-ca.pem'), tls.caPem!)
    const good = await ctm(['groups', 'list', '--ca-file', 'ctm-ca.pem', '--json'], env)
    expect(good.code, good.stderr).toBe(0)
  })

  it('ctm login stores a refresh token in the profile (0600); later commands need no password', async () => {
    const home = mkdtempSync(join(tmpdir(), 'trustctl-ctm-home-'))
    try {
      const login = await runCli(['ctm', 'login', '--url', emu.url, '--username', 'admin', '--password-file', join(dir, 'admin.pw'), '--json'], {cwd: home, env: {HOME: home, XDG_CONFIG_HOME: undefined}})
      expect(login.code, login.stderr).toBe(0)
      const cfg = join(home, '.config', 'trustctl', 'config.yaml')
      expect(statSync(cfg).mode & 0o777).toBe(0o600)
      expect(readFileSync(cfg, 'utf8')).toMatch(/ctm-refresh-token: \S+/)
      const later = await runCli(['ctm', 'groups', 'list', '--json'], {cwd: home, env: {HOME: home, XDG_CONFIG_HOME: undefined}})
      expect(later.code, later.stderr).toBe(0)
      const shown = await runCli(['config', 'show', '--json'], {cwd: home, env: {HOME: home, XDG_CONFIG_HOME: undefined}})
      const rt = /ctm-refresh-token: (\S+)/.exec(readFileSync(cfg, 'utf8'))![1]!
      expect(shown.stdout).not.toContain(rt)
      // Logging in again (a refresh token now stored) is a password login that stores a new one.
      const again = await runCli(['ctm', 'login', '--password-file', join(dir, 'admin.pw'), '--json'], {cwd: home, env: {HOME: home, XDG_CONFIG_HOME: undefined}})
      expect(again.code, again.stderr).toBe(0)
      expect(/ctm-refresh-token: (\S+)/.exec(readFileSync(cfg, 'utf8'))![1]).not.toBe(rt)
    } finally {
      rmSync(home, {recursive: true, force: true})
    }
  })
})

describe('ksctl compatibility', () => {
  it("reads ksctl's config file when nothing else is set", async () => {
    const home = mkdtempSync(join(tmpdir(), 'trustctl-ksctl-'))
    try {
      const {mkdirSync} = await import('node:fs')
      mkdirSync(join(home, '.ksctl'))
      writeFileSync(join(home, '.ksctl', 'config.yaml'), `KSCTL_URL: ${emu.url}\nKSCTL_USERNAME: admin\nKSCTL_PASSWORD: ${ADMIN_PW}\nKSCTL_NOSSLVERIFY: false\nKSCTL_TIMEOUT: 30\n`)
      const r = await runCli(['ctm', 'groups', 'list', '--json'], {cwd: home, cleanEnv: true, env: {HOME: home}})
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).not.toContain(ADMIN_PW)
    } finally {
      rmSync(home, {recursive: true, force: true})
    }
  })

  it('bad values in the ksctl config and a missing explicit --ksctl-config are clear errors', async () => {
    const home = mkdtempSync(join(tmpdir(), 'trustctl-ksctl-'))
    try {
      const cases: Array<[string, RegExp]> = [
        [`KSCTL_URL: ${emu.url}\nKSCTL_USERNAME: admin\nKSCTL_TIMEOUT: soon\n`, /KSCTL_TIMEOUT in ks\.yaml: "soon" is not a duration/],
        [`KSCTL_URL: ${emu.url}\nKSCTL_USERNAME: admin\nKSCTL_NOSSLVERIFY: maybe\n`, /KSCTL_NOSSLVERIFY in .*: "maybe" is not a boolean/],
        ['KSCTL_URL: not a url\nKSCTL_USERNAME: admin\n', /KSCTL_URL in ks\.yaml/],
      ]
      for (const [text, message] of cases) {
        writeFileSync(join(home, 'ks.yaml'), text)
        const r = await runCli(['ctm', 'groups', 'list', '--ksctl-config', 'ks.yaml', '--password-file', join(dir, 'admin.pw'), '--json'], {cwd: home, cleanEnv: true, env: {HOME: home}})
        expect(r.code, text).toBe(2)
        expect(json(r).error.message).toMatch(message)
      }
      const missing = await runCli(['ctm', 'groups', 'list', '--ksctl-config', 'nope.yaml', '--json'], {cwd: home, cleanEnv: true, env: {HOME: home}})
      expect(missing.code).toBe(3)
      expect(json(missing).error.message).toContain('nope.yaml')
      const noUser = await runCli(['ctm', 'groups', 'list', '--url', emu.url, '--password-file', join(dir, 'admin.pw'), '--json'], {cwd: home, cleanEnv: true, env: {HOME: home}})
      expect(noUser.code).toBe(2)
      expect(json(noUser).error.message).toBe('no CipherTrust Manager user name')
    } finally {
      rmSync(home, {recursive: true, force: true})
    }
  })
})

describe("the SPIRE plugin's keys", () => {
  const SID = 'f2554a90-8ce7-4d73-9788-cf842e31c4ef'
  const OTHER = '0b8f3c1e-6a57-4c1e-9d1a-3c2b8f2e7a10'
  const TD_HASH = '20116dfd6774a9e7b32eddfea3f6cb094e38fc3f' // sha1("example.org")
  const now = Math.floor(Date.now() / 1000)
  const key = (sid: string, id: string, labels: Record<string, string>) => ({name: `spire-key-${sid}-${id}`, labels: {'spire-server-id': sid, 'spire-server-td': TD_HASH, ...labels}})

  beforeAll(() => {
    emu.seedKeys(6, (i: number) =>
      [
        key(SID, 'x509-CA-A', {'spire-active': 'true', 'spire-last-update': String(now - 3600)}),
        key(SID, 'x509-CA-B', {'spire-active': 'true', 'spire-last-update': String(now - 20 * 86_400)}), // stale by age
        key(SID, 'JWT-Signer-A', {'spire-active': 'false', 'spire-last-update': String(now - 3600)}), // inactive
        key(SID, 'JWT-Signer-B', {'spire-active': 'true', 'spire-last-update': String(now - 60)}),
        key(OTHER, 'x509-CA-A', {'spire-active': 'true', 'spire-last-update': String(now - 60)}),
        {name: 'unrelated-key', labels: {team: 'x'}},
      ][i]!,
    )
  })

  it('keys list shows the active keys of one server and trust domain (labels filter)', async () => {
    const r = await ctm(['keys', 'list', '--server-id', SID, '--trust-domain', 'example.org', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(json(r).keys.map((k: any) => k.spireKeyId).sort()).toEqual(['JWT-Signer-B', 'x509-CA-A', 'x509-CA-B'])
    const all = json(await ctm(['keys', 'list', '--server-id', SID, '--trust-domain', 'example.org', '--all', '--json'])).keys
    expect(all).toHaveLength(4)
  })

  it('keys prune needs a scope; a --server-id that is not a UUID and a bad --stale fail before any key is touched', async () => {
    const before = emu.requests.length
    const unscoped = await ctm(['keys', 'prune', '--yes', '--json'])
    expect(unscoped.code).toBe(2)
    expect(json(unscoped).error.message).toBe('say whose keys to prune: --trust-domain and/or --server-id')
    const injected = await ctm(['keys', 'list', '--server-id', `${SID},spire-active=false`, '--json'])
    expect(injected.code).toBe(2)
    expect(json(injected).error.message).toMatch(/--server-id: ".*" is not a UUID/)
    const stale = await ctm(['keys', 'prune', '--server-id', SID, '--stale', 'fortnight', '--json'])
    expect(stale.code).toBe(2)
    expect(json(stale).error.message).toMatch(/--stale: "fortnight" is not a duration/)
    expect(emu.requests.slice(before).filter((q) => q.path.startsWith('/api/v1/vault'))).toHaveLength(0)
  })

  it('keys prune --dry-run lists exactly the stale keys; --yes destroys only those', async () => {
    const dry = await ctm(['keys', 'prune', '--server-id', SID, '--trust-domain', 'example.org', '--dry-run', '--json'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(json(dry).stale.map((k: any) => k.spireKeyId).sort()).toEqual(['JWT-Signer-A', 'x509-CA-B'])
    const noYes = await ctm(['keys', 'prune', '--server-id', SID, '--trust-domain', 'example.org'])
    expect(noYes.code).toBe(2)
    const done = await ctm(['keys', 'prune', '--server-id', SID, '--trust-domain', 'example.org', '--yes', '--json'])
    expect(done.code, done.stderr).toBe(0)
    expect(json(done).destroyed.sort()).toEqual([`spire-key-${SID}-JWT-Signer-A`, `spire-key-${SID}-x509-CA-B`])
    const destroys = emu.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/destroy'))
    expect(destroys).toHaveLength(2)
    const again = await ctm(['keys', 'prune', '--server-id', SID, '--trust-domain', 'example.org', '--dry-run', '--json'])
    expect(json(again).stale).toEqual([])
  })

  it('metadata recover restores the right server ID; several candidates need --server-id; an existing file needs --force', async () => {
    const file = join(dir, 'recovered', 'ctmkms-key-metadata')
    const rec = await runCli(['metadata', 'recover', '--file', file, '--trust-domain', 'example.org', '--json'], {cwd: dir, env: {HOME: dir, TRUSTCTL_CTM_URL: emu.url, TRUSTCTL_CTM_USERNAME: 'admin', TRUSTCTL_CTM_PASSWORD_FILE: join(dir, 'admin.pw')}})
    expect(rec.code).toBe(2)
    expect(json(rec).error.message).toContain(SID)
    expect(json(rec).error.message).toContain(OTHER)
    const ok = await runCli(['metadata', 'recover', '--file', file, '--trust-domain', 'example.org', '--server-id', SID, '--json'], {cwd: dir, env: {HOME: dir, TRUSTCTL_CTM_URL: emu.url, TRUSTCTL_CTM_USERNAME: 'admin', TRUSTCTL_CTM_PASSWORD_FILE: join(dir, 'admin.pw')}})
    expect(ok.code, ok.stderr).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(SID)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const again = await runCli(['metadata', 'recover', '--file', file, '--trust-domain', 'example.org', '--server-id', OTHER, '--json'], {cwd: dir, env: {HOME: dir, TRUSTCTL_CTM_URL: emu.url, TRUSTCTL_CTM_USERNAME: 'admin', TRUSTCTL_CTM_PASSWORD_FILE: join(dir, 'admin.pw')}})
    expect(again.code).toBe(8)
    expect(readFileSync(file, 'utf8')).toBe(SID)
  })
})

describe('bundle tokens signed by a CipherTrust key', () => {
  it('an ES256 token signed through /api/v1/crypto/sign verifies with the key\'s PEM public key', async () => {
    const c = await CtmClient.connect({url: emu.url, username: 'admin', password: ADMIN_PW})
    await c.login()
    const created = await c.post<{publickey: string}>('/api/v1/vault/keys2', 'create key', {json: {name: 'bundle-signer', algorithm: 'ec', curveid: 'prime256v1', usageMask: 3}})
    writeFileSync(join(dir, 'ctm-pub.pem'), created.publickey)
    const {bundlePem} = await import('../helpers/bundle-fixtures.js')
    writeFileSync(join(dir, 'bundle.pem'), bundlePem())
    const env = {HOME: dir, TRUSTCTL_CTM_URL: emu.url, TRUSTCTL_CTM_USERNAME: 'admin', TRUSTCTL_CTM_PASSWORD_FILE: join(dir, 'admin.pw')}
    const signed = await runCli(['bundle', 'sign', '--bundle', 'bundle.pem', '--ctm-key', 'bundle-signer', '--out', 'ctm.jwt', '--force', '--json'], {cwd: dir, env})
    expect(signed.code, signed.stderr).toBe(0)
    expect(json(signed)).toMatchObject({alg: 'ES256', signer: 'CipherTrust key bundle-signer'})
    const verified = await runCli(['bundle', 'verify', '--chain', 'ctm-pub.pem', '--token', 'ctm.jwt', '--json'], {cwd: dir, env})
    expect(verified.code, verified.stderr).toBe(0)
    expect(json(verified).layers[0]).toMatchObject({alg: 'ES256', key: 'ctm-pub.pem'})
  })
})

describe('the rest of the ksctl-style commands', () => {
  it('get, delete, deluser, policy and attachment delete, keys show; not found is exit 3', async () => {
    const g = await ctm(['groups', 'create', '--name', 'Temp Group', '--json'])
    expect(g.code, g.stderr).toBe(0)
    writeFileSync(join(dir, 'temp.pw'), 'Temp-User-Pw-9!')
    const u = json(await ctm(['users', 'create', '--name', 'temp-user', '--pword-file', 'temp.pw', '--json'])).object
    expect((await ctm(['users', 'get', '--userid', u.user_id, '--json'])).code).toBe(0)
    expect((await ctm(['groups', 'adduser', '--name', 'Temp Group', '--userid', u.user_id])).code).toBe(0)
    expect((await ctm(['groups', 'deluser', '--name', 'Temp Group', '--userid', u.user_id])).code).toBe(0)
    expect(json(await ctm(['users', 'list', '--group', 'Temp Group', '--json'])).resources).toEqual([])
    expect((await ctm(['users', 'delete', '--userid', u.user_id])).code).toBe(0)
    const gone = await ctm(['users', 'get', '--userid', u.user_id, '--json'])
    expect(gone.code).toBe(3)
    expect(json(gone).error.code).toBe('NOT_FOUND')
    expect((await ctm(['groups', 'delete', '--name', 'Temp Group'])).code).toBe(0)
    expect((await ctm(['groups', 'delete', '--name', 'Temp Group', '--json'])).code).toBe(3)

    writeFileSync(join(dir, 'temp-policy.json'), JSON.stringify({allow: true, name: 'temp-policy', actions: ['ReadKey'], resources: ['kylo:kylo:vault:keys:temp-*']}))
    writeFileSync(join(dir, 'temp-sel.json'), JSON.stringify({cust: {groups: ['Nobody']}}))
    expect((await ctm(['policy', 'create', '--jsonfile', 'temp-policy.json'])).code).toBe(0)
    expect(json(await ctm(['policy', 'get', '--name', 'temp-policy', '--json'])).name).toBe('temp-policy')
    const att = json(await ctm(['polattach', 'create', '-p', 'temp-policy', '-g', 'temp-sel.json', '--json'])).object
    expect((await ctm(['polattach', 'delete', '--id', att.id])).code).toBe(0)
    expect((await ctm(['policy', 'delete', '--name', 'temp-policy'])).code).toBe(0)
    expect((await ctm(['policy', 'get', '--name', 'temp-policy', '--json'])).code).toBe(3)

    writeFileSync(join(dir, 'bad-policy.json'), JSON.stringify({name: 'x', actions: ['ReadKey'], resources: ['kylo:kylo:vault:keys:KEK-*']}))
    const bad = await ctm(['policy', 'create', '--jsonfile', 'bad-policy.json', '--json'])
    expect(bad.code).toBe(2)
    expect(json(bad).error.message).toMatch(/upper-case/)

    const shown = await ctm(['keys', 'show', 'bundle-signer', '--json'])
    expect(shown.code, shown.stderr).toBe(0)
    expect(json(shown).publickey).toContain('BEGIN PUBLIC KEY')
    expect((await ctm(['keys', 'show', 'no-such-key', '--json'])).code).toBe(3)
  })

  it('tokens create --json prints the whole token object', async () => {
    const r = await ctm(['tokens', 'create', '--user', 'kes-user', '--password-file', 'kes-user.pw', '--issue-rt', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(json(r)).toMatchObject({token_type: 'Bearer', duration: expect.any(Number), refresh_token: expect.stringMatching(/^[A-Za-z0-9]+$/)})
  })

  it('renews the JWT before it expires (no 401 needed)', async () => {
    const short = await startEmulator({users: [{username: 'admin', password: ADMIN_PW}], tokenLifetimeSec: 31})
    try {
      const c = await CtmClient.connect({url: short.url, username: 'admin', password: ADMIN_PW})
      await c.login()
      await c.list('/api/v1/usermgmt/groups', 'groups')
      // 31 s tokens are renewed when less than 30 s are left: the next call logs in first.
      await new Promise((r) => setTimeout(r, 1200))
      await c.list('/api/v1/usermgmt/groups', 'groups')
      const logins = short.requests.filter((q) => q.method === 'POST' && q.path.startsWith('/api/v1/auth/tokens'))
      expect(logins).toHaveLength(2)
      expect(short.requests.some((q) => q.status === 401)).toBe(false)
    } finally {
      await short.stop()
    }
  })
})

describe('password prompt on a terminal', () => {
  const onTerminal = (password: string) =>
    runCliInTerminal(['ctm', 'users', 'list'], {cwd: dir, env: {HOME: dir, TRUSTCTL_CTM_URL: emu.url, TRUSTCTL_CTM_USERNAME: 'admin', TRUSTCTL_CTM_PASSWORD_FILE: undefined, TRUSTCTL_CTM_PASSWORD: undefined}, answers: [{when: /CipherTrust Manager password/, send: `${password}\r`}]})

  it('asks for the password when none is configured, masks it, and logs in with it', async () => {
    const r = await onTerminal(ADMIN_PW)
    expect(r.code, r.stdout).toBe(0)
    expect(r.stdout).toMatch(/CipherTrust Manager password/)
    expect(r.stdout).toContain('admin')
    expect(r.stdout).not.toContain(ADMIN_PW)
  })

  it('a wrong password typed at the prompt is exit 4', async () => {
    const r = await onTerminal('not-the-password')
    expect(r.code, r.stdout).toBe(4)
    expect(r.stdout).not.toContain('not-the-password')
  })
})
