import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {json, runCli} from '../helpers/cli.js'
import {startSwtpm} from '../helpers/swtpm.js'
import {useTmpDir} from '../helpers/tmp.js'

const tmp = useTmpDir()

describe('doctor', () => {
  it('passes with a reachable TPM: node, config, tpm2-tools and tpm ok; missing keys only warn (exit 0)', async () => {
    const dir = tmp()
    const tpm = await startSwtpm()
    try {
      const r = await runCli(['doctor', '--json'], {cwd: dir, env: {HOME: dir, TPM2TOOLS_TCTI: tpm.tcti}})
      expect(r.code, r.stdout + r.stderr).toBe(0)
      const body = json(r)
      expect(body.ok).toBe(true)
      expect(body.checks.map((c: {name: string; status: string}) => `${c.name}:${c.status}`)).toEqual([
        'node:ok', 'config:ok', 'tpm2-tools:ok', 'tpm:ok', 'storage key:warn', 'signing key:warn',
      ])
      expect(body.checks.find((c: {name: string}) => c.name === 'tpm2-tools').message).toMatch(/^tpm2-tools \d+\.\d+.*TCTI swtpm:path=/)
      expect(body.checks.find((c: {name: string}) => c.name === 'signing key').fix).toBe('trustctl tpm provision')
    } finally {
      await tpm.stop()
    }
  })

  it('fails with exit 5 and the apt-get fix when tpm2-tools is missing, in both modes', async () => {
    const dir = tmp()
    // A PATH that has node but no tpm2-tools.
    const bin = join(dir, 'bin')
    mkdirSync(bin)
    symlinkSync(process.execPath, join(bin, 'node'))
    const env = {HOME: dir, PATH: bin}
    const human = await runCli(['doctor'], {cwd: dir, cleanEnv: true, env})
    expect(human.code).toBe(5)
    expect(human.stdout).toMatch(/FAIL tpm2-tools/)
    expect(human.stdout).toContain('fix: apt-get install tpm2-tools')
    const machine = await runCli(['doctor', '--json'], {cwd: dir, cleanEnv: true, env})
    expect(machine.code).toBe(5)
    const body = json(machine)
    expect(body.error).toMatchObject({code: 'TPM2_TOOLS_MISSING', exitCode: 5})
    expect(body.error.details.checks).toHaveLength(3)
  })

  it('reports a broken config file as a failed check (exit 2) instead of stopping', async () => {
    const dir = tmp()
    mkdirSync(join(dir, '.config', 'trustctl'), {recursive: true})
    writeFileSync(join(dir, '.config', 'trustctl', 'config.yaml'), 'profiles: {a: [1,\n')
    const r = await runCli(['doctor', '--json', '--tcti', 'swtpm:path=/nonexistent/sock'], {cwd: dir, env: {HOME: dir, XDG_CONFIG_HOME: undefined}})
    expect(r.code).toBe(2)
    const checks = json(r).error.details.checks
    expect(checks.find((c: {name: string}) => c.name === 'config')).toMatchObject({status: 'fail', message: expect.stringMatching(/is not valid YAML/)})
    expect(checks.find((c: {name: string}) => c.name === 'node').status).toBe('ok')
  })
})

describe('colours', () => {
  const ESC = '\u001B['
  it('are used when forced, and never with NO_COLOR or --no-color', async () => {
    const dir = tmp()
    const env = {HOME: dir, FORCE_COLOR: '1', NO_COLOR: undefined}
    const forced = await runCli(['doctor', '--tcti', 'swtpm:path=/nonexistent/sock'], {cwd: dir, env})
    expect(forced.stdout).toContain(ESC)
    const noColor = await runCli(['doctor', '--tcti', 'swtpm:path=/nonexistent/sock'], {cwd: dir, env: {...env, NO_COLOR: '1'}})
    expect(noColor.stdout).not.toContain(ESC)
    const flag = await runCli(['doctor', '--no-color', '--tcti', 'swtpm:path=/nonexistent/sock'], {cwd: dir, env})
    expect(flag.stdout).not.toContain(ESC)
    expect(flag.stdout).toContain('FAIL tpm')
  })

  it('are off when output is not a terminal', async () => {
    const dir = tmp()
    const r = await runCli(['doctor', '--tcti', 'swtpm:path=/nonexistent/sock'], {cwd: dir, env: {HOME: dir, FORCE_COLOR: undefined, NO_COLOR: undefined}})
    expect(r.stdout).not.toContain(ESC)
  })
})
