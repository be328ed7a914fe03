import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {loadConfigContext, parseConfigText, Settings} from '../../../src/lib/core/config.js'
import {useTmpDir} from '../../helpers/tmp.js'

const tmp = useTmpDir()

function writeConfig(dir: string, text: string): string {
  const path = join(dir, 'config.yaml')
  writeFileSync(path, text)
  return path
}

async function settingsFor(opts: {dir: string; env?: Record<string, string>; dotenv?: string; config?: string; profile?: string; flags?: Record<string, string>}) {
  if (opts.dotenv !== undefined) writeFileSync(join(opts.dir, '.env'), opts.dotenv)
  const ctx = await loadConfigContext({
    cwd: opts.dir,
    env: opts.env ?? {},
    home: join(opts.dir, 'home'),
    configFlag: opts.config,
    profileFlag: opts.profile,
  })
  const flagNames = new Map(Object.keys(opts.flags ?? {}).map((k) => [k, k]))
  for (const k of ['tcti', 'tpm-timeout', 'ctm-password', 'ctm-password-file', 'metadata-file']) flagNames.set(k, k)
  return new Settings(ctx, flagNames, opts.flags ?? {})
}

describe('setting precedence: flag > env > .env > profile > default', () => {
  const profileYaml = 'profiles:\n  default:\n    tcti: "swtpm:path=/profile.sock"\n'

  it('uses the default when nothing else is set', async () => {
    const dir = tmp()
    const s = await settingsFor({dir})
    expect(s.get('tcti')).toMatchObject({value: 'device:/dev/tpmrm0', source: 'default'})
  })

  it('profile beats default', async () => {
    const dir = tmp()
    const s = await settingsFor({dir, config: writeConfig(dir, profileYaml)})
    expect(s.get('tcti')).toMatchObject({value: 'swtpm:path=/profile.sock', source: 'profile'})
  })

  it('.env beats profile', async () => {
    const dir = tmp()
    const s = await settingsFor({dir, config: writeConfig(dir, profileYaml), dotenv: 'TPM2TOOLS_TCTI=swtpm:path=/dotenv.sock\n'})
    expect(s.get('tcti')).toMatchObject({value: 'swtpm:path=/dotenv.sock', source: '.env', origin: 'TPM2TOOLS_TCTI'})
  })

  it('env beats .env, and .env never overrides a real variable', async () => {
    const dir = tmp()
    const s = await settingsFor({
      dir,
      config: writeConfig(dir, profileYaml),
      dotenv: 'TPM2TOOLS_TCTI=swtpm:path=/dotenv.sock\n',
      env: {TPM2TOOLS_TCTI: 'swtpm:path=/env.sock'},
    })
    expect(s.get('tcti')).toMatchObject({value: 'swtpm:path=/env.sock', source: 'env'})
  })

  it('flag beats env', async () => {
    const dir = tmp()
    const s = await settingsFor({
      dir,
      config: writeConfig(dir, profileYaml),
      dotenv: 'TPM2TOOLS_TCTI=swtpm:path=/dotenv.sock\n',
      env: {TPM2TOOLS_TCTI: 'swtpm:path=/env.sock'},
      flags: {tcti: 'swtpm:path=/flag.sock'},
    })
    expect(s.get('tcti')).toMatchObject({value: 'swtpm:path=/flag.sock', source: 'flag', origin: '--tcti'})
  })

  it('an absent flag never masks the profile (no static flag defaults)', async () => {
    const dir = tmp()
    const s = await settingsFor({dir, config: writeConfig(dir, 'profiles:\n  default:\n    tpm-timeout: 5s\n'), flags: {}})
    expect(s.get('tpm-timeout')).toMatchObject({value: '5s', source: 'profile'})
    expect(s.duration('tpm-timeout')).toBe(5000)
  })

  it('TRUSTCTL_PROFILE and current-profile select the profile, --profile beats both', async () => {
    const dir = tmp()
    const config = writeConfig(dir, 'current-profile: a\nprofiles:\n  a: {tcti: "A"}\n  b: {tcti: "B"}\n  c: {tcti: "C"}\n')
    expect((await settingsFor({dir, config})).string('tcti')).toBe('A')
    expect((await settingsFor({dir, config, env: {TRUSTCTL_PROFILE: 'b'}})).string('tcti')).toBe('B')
    expect((await settingsFor({dir, config, env: {TRUSTCTL_PROFILE: 'b'}, profile: 'c'})).string('tcti')).toBe('C')
  })

  it('TRUSTCTL_CONFIG selects the file, from env or .env', async () => {
    const dir = tmp()
    const config = writeConfig(dir, profileYaml)
    expect((await settingsFor({dir, env: {TRUSTCTL_CONFIG: config}})).get('tcti').source).toBe('profile')
    expect((await settingsFor({dir, dotenv: `TRUSTCTL_CONFIG=${config}\n`})).get('tcti').source).toBe('profile')
  })

  it('the default config file is $XDG_CONFIG_HOME/trustctl/config.yaml', async () => {
    const dir = tmp()
    mkdirSync(join(dir, 'xdg', 'trustctl'), {recursive: true})
    writeFileSync(join(dir, 'xdg', 'trustctl', 'config.yaml'), profileYaml)
    const s = await settingsFor({dir, env: {XDG_CONFIG_HOME: join(dir, 'xdg')}})
    expect(s.get('tcti').source).toBe('profile')
  })
})

describe('config file parsing', () => {
  it('keeps every scalar as text: 0x81008006 stays 0x81008006', async () => {
    const warnings: string[] = []
    const parsed = await parseConfigText('profiles:\n  p:\n    tcti: 0x81008006\n    insecure: yes\n', 'f', warnings)
    expect(parsed.profiles.p).toEqual({tcti: '0x81008006', insecure: 'yes'})
  })

  it('warns about unknown keys instead of silently ignoring typos', async () => {
    const warnings: string[] = []
    await parseConfigText('colour: red\nprofiles:\n  p:\n    tctii: x\n', 'f', warnings)
    expect(warnings).toEqual([expect.stringContaining('unknown top-level key "colour"'), expect.stringContaining('unknown setting "tctii"')])
  })

  it('reports invalid YAML with file, line and column', async () => {
    await expect(parseConfigText('profiles:\n  p: [unclosed\n', '/x/config.yaml', [])).rejects.toThrow(/\/x\/config.yaml:\d+:\d+ is not valid YAML/)
  })

  it('rejects a profile that is not a mapping', async () => {
    await expect(parseConfigText('profiles:\n  p: just-text\n', 'f', [])).rejects.toThrow('profile "p" must be a mapping')
  })

  it('a named config file that does not exist is an error; the default one is optional', async () => {
    const dir = tmp()
    await expect(loadConfigContext({cwd: dir, env: {}, home: dir, configFlag: 'missing.yaml'})).rejects.toThrow(/does not exist/)
    const ctx = await loadConfigContext({cwd: dir, env: {}, home: dir})
    expect(ctx.file.exists).toBe(false)
  })

  it('an unknown profile is PROFILE_NOT_FOUND (exit 3) listing the known ones', async () => {
    const dir = tmp()
    const config = writeConfig(dir, 'profiles:\n  lab: {}\n  prod: {}\n')
    await expect(loadConfigContext({cwd: dir, env: {}, configFlag: config, profileFlag: 'stage'})).rejects.toMatchObject({
      code: 'PROFILE_NOT_FOUND',
      exitCode: 3,
      suggestions: ['use one of: lab, prod'],
    })
  })
})

describe('secrets', () => {
  it('reads a secret file without its trailing newline; the file flag counts as a flag', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'pw'), 's3cret-from-file\n')
    const s = await settingsFor({dir, env: {TRUSTCTL_CTM_PASSWORD: 'from-env'}, flags: {'ctm-password-file': join(dir, 'pw')}})
    expect(s.get('ctm-password').source).toBe('flag')
    expect(await s.secret('ctm-password')).toBe('s3cret-from-file')
  })

  it('falls back to a prompt only when given one, and otherwise names the flag', async () => {
    const dir = tmp()
    const s = await settingsFor({dir})
    expect(await s.secret('ctm-password', async () => 'typed')).toBe('typed')
    await expect(s.requireSecret('ctm-password')).rejects.toMatchObject({code: 'MISSING_FLAG', message: expect.stringContaining('--ctm-password-file')})
  })

  it('an unreadable secret file is SECRET_UNREADABLE (exit 4)', async () => {
    const dir = tmp()
    const s = await settingsFor({dir, env: {TRUSTCTL_CTM_PASSWORD_FILE: join(dir, 'missing')}})
    await expect(s.secret('ctm-password')).rejects.toMatchObject({code: 'SECRET_UNREADABLE', exitCode: 4})
  })

  it('require() names the flag, the variables and the profile key', async () => {
    const dir = tmp()
    const s = await settingsFor({dir})
    expect(() => s.require('metadata-file')).toThrow(/missing required --metadata-file/)
    try {
      s.require('metadata-file')
    } catch (err) {
      expect((err as {suggestions: string[]}).suggestions[0]).toMatch(/TRUSTCTL_METADATA_FILE.*metadata-file: \.\.\./)
    }
  })
})
