import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {json, runCli} from '../helpers/cli.js'
import {useTmpDir} from '../helpers/tmp.js'

const tmp = useTmpDir()

function home(profileYaml?: string): string {
  const dir = tmp()
  if (profileYaml !== undefined) {
    mkdirSync(join(dir, '.config', 'trustctl'), {recursive: true})
    writeFileSync(join(dir, '.config', 'trustctl', 'config.yaml'), profileYaml)
  }
  return dir
}

async function show(dir: string, args: string[] = [], env: Record<string, string | undefined> = {}) {
  const r = await runCli(['config', 'show', '--json', ...args], {cwd: dir, cleanEnv: true, env: {HOME: dir, ...env}})
  expect(r.code, r.stderr).toBe(0)
  const body = json(r)
  const byKey = Object.fromEntries(body.settings.map((s: {key: string}) => [s.key, s]))
  return {body, byKey, stderr: r.stderr}
}

describe('config show: precedence through the real binary', () => {
  const yaml = 'profiles:\n  default:\n    tcti: "swtpm:path=/profile.sock"\n    tpm-timeout: 7s\n    insecure: "true"\n'

  it('default < profile < .env < env < flag, each shown with its source', async () => {
    const dir = home(yaml)
    expect((await show(home())).byKey.tcti).toMatchObject({value: 'device:/dev/tpmrm0', source: 'default'})
    expect((await show(dir)).byKey.tcti).toMatchObject({value: 'swtpm:path=/profile.sock', source: 'profile'})
    writeFileSync(join(dir, '.env'), 'TPM2TOOLS_TCTI=swtpm:path=/dotenv.sock\n')
    expect((await show(dir)).byKey.tcti).toMatchObject({value: 'swtpm:path=/dotenv.sock', source: '.env'})
    expect((await show(dir, [], {TPM2TOOLS_TCTI: 'swtpm:path=/env.sock'})).byKey.tcti).toMatchObject({value: 'swtpm:path=/env.sock', source: 'env'})
    expect((await show(dir, ['--tcti', 'swtpm:path=/flag.sock'], {TPM2TOOLS_TCTI: 'swtpm:path=/env.sock'})).byKey.tcti).toMatchObject({
      value: 'swtpm:path=/flag.sock',
      source: 'flag',
    })
  })

  it('a flag that is not given never masks the profile (settings with defaults too)', async () => {
    const {byKey} = await show(home(yaml))
    expect(byKey['tpm-timeout']).toMatchObject({value: '7s', source: 'profile'})
    expect(byKey.insecure).toMatchObject({value: 'true', source: 'profile'})
    expect(byKey.timeout).toMatchObject({value: '30s', source: 'default'})
  })

  it('.env never overrides a real variable', async () => {
    const dir = home()
    writeFileSync(join(dir, '.env'), 'TRUSTCTL_TIMEOUT=99s\nTRUSTCTL_TRUST_DOMAIN=dotenv.org\n')
    const {byKey} = await show(dir, [], {TRUSTCTL_TIMEOUT: '5s'})
    expect(byKey.timeout).toMatchObject({value: '5s', source: 'env'})
    expect(byKey['trust-domain']).toMatchObject({value: 'dotenv.org', source: '.env'})
  })

  it('--profile and TRUSTCTL_PROFILE choose the profile; --config chooses the file', async () => {
    const dir = home('profiles:\n  a: {trust-domain: a.org}\n  b: {trust-domain: b.org}\n')
    const other = join(dir, 'other.yaml')
    writeFileSync(other, 'profiles:\n  default: {trust-domain: other.org}\n')
    expect((await show(dir, ['--profile', 'a'])).byKey['trust-domain'].value).toBe('a.org')
    expect((await show(dir, [], {TRUSTCTL_PROFILE: 'b'})).byKey['trust-domain'].value).toBe('b.org')
    expect((await show(dir, ['--profile', 'a'], {TRUSTCTL_PROFILE: 'b'})).byKey['trust-domain'].value).toBe('a.org')
    const viaFile = await show(dir, ['--config', other])
    expect(viaFile.byKey['trust-domain'].value).toBe('other.org')
    expect(viaFile.body.configFile).toMatchObject({path: other, source: 'flag', exists: true})
  })

  it('bad values and files fail with one line and the documented exit code in both modes', async () => {
    const dir = home('profiles: [oops\n')
    for (const json of [false, true]) {
      const r = await runCli(['config', 'show', ...(json ? ['--json'] : [])], {cwd: dir, cleanEnv: true, env: {HOME: dir}})
      expect(r.code).toBe(2)
      if (json) expect(JSON.parse(r.stdout).error).toMatchObject({code: 'CONFIG_INVALID', exitCode: 2})
      else expect(r.stderr.split('\n')[0]).toMatch(/^Error: config file .*config.yaml:\d+:\d+ is not valid YAML/)
    }
    const unknown = await runCli(['config', 'show', '--profile', 'nope', '--json'], {cwd: dir, cleanEnv: true, env: {HOME: home('profiles:\n  a: {}\n')}})
    expect(unknown.code).toBe(3)
    expect(JSON.parse(unknown.stdout).error.code).toBe('PROFILE_NOT_FOUND')
  })

  it('warns on stderr about unknown profile keys', async () => {
    const {stderr} = await show(home('profiles:\n  default:\n    tctii: x\n'))
    expect(stderr).toMatch(/Warning: .*unknown setting "tctii"/)
  })
})

describe('secrets never leak', () => {
  const PW = 'Sup3r-S3cret-Passw0rd'

  async function allOutputs(dir: string, args: string[], env: Record<string, string> = {}) {
    const outs: string[] = []
    for (const extra of [[], ['--json']]) {
      for (const debug of [{}, {DEBUG: '1', TRUSTCTL_LOG_LEVEL: 'debug'}]) {
        const r = await runCli(['config', 'show', ...args, ...extra], {cwd: dir, cleanEnv: true, env: {HOME: dir, ...env, ...debug}})
        expect(r.code, r.stderr).toBe(0)
        outs.push(r.stdout, r.stderr)
      }
    }
    return outs.join('\n')
  }

  it('given by file: shown as *** with its source', async () => {
    const dir = home()
    writeFileSync(join(dir, 'pw'), `${PW}\n`, {mode: 0o600})
    const out = await allOutputs(dir, ['--ctm-password-file', join(dir, 'pw')])
    expect(out).not.toContain(PW)
    const {byKey} = await show(dir, ['--ctm-password-file', join(dir, 'pw')])
    expect(byKey['ctm-password']).toMatchObject({value: '***', source: 'flag', secret: true})
  })

  it('given by environment', async () => {
    const dir = home()
    const out = await allOutputs(dir, [], {TRUSTCTL_CTM_PASSWORD: PW})
    expect(out).not.toContain(PW)
    expect(out).toContain('***')
  })

  it('given as a flag: works, warns, and is still never printed', async () => {
    const dir = home()
    const out = await allOutputs(dir, ['--ctm-password', PW])
    expect(out).not.toContain(PW)
    expect(out).toMatch(/Warning: --ctm-password puts a secret on the command line/)
  })

  it('given in a profile', async () => {
    const dir = home(`profiles:\n  default:\n    ctm-password: "${PW}"\n`)
    const out = await allOutputs(dir, [])
    expect(out).not.toContain(PW)
  })

  it('not even in an error message that would echo it', async () => {
    const dir = home()
    // The secret also appears as the value of a bad setting; the error text is redacted.
    const r = await runCli(['config', 'show', '--ctm-password', PW, '--timeout', PW, '--json'], {cwd: dir, cleanEnv: true, env: {HOME: dir}})
    expect(`${r.stdout}${r.stderr}`).not.toContain(PW)
  })
})
