import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {Config} from '@oclif/core'
import {describe, expect, it} from 'vitest'

import {ROOT, runCli} from '../helpers/cli.js'

function commandIdsFromTree(dir: string, base = dir): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return commandIdsFromTree(p, base)
    if (!e.name.endsWith('.ts')) return []
    return [relative(base, p).replace(/\.ts$/, '').replace(/\/index$/, '').split('/').join(':')]
  })
}

describe('every command loads', () => {
  it('the committed manifest lists exactly the commands in src/commands (not stale)', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8'))
    expect(Object.keys(manifest.commands).sort()).toEqual(commandIdsFromTree(join(ROOT, 'src', 'commands')).sort())
    expect(manifest.version).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version)
  })

  it('imports every command module of the build and finds a runnable class', async () => {
    const config = await Config.load(ROOT)
    const ours = config.commands.filter((c) => c.pluginName === 'trustctl')
    expect(ours.length).toBeGreaterThanOrEqual(5)
    for (const c of ours) {
      const cls = await c.load()
      expect(typeof cls.run, c.id).toBe('function')
      expect(cls.enableJsonFlag, `${c.id} must support --json`).toBe(true)
      expect(cls.examples?.length ?? 0, `${c.id} needs --help examples`).toBeGreaterThan(0)
    }
  })

  it('--help works for every command and shows its examples', async () => {
    const config = await Config.load(ROOT)
    for (const c of config.commands.filter((c) => c.pluginName === 'trustctl')) {
      const r = await runCli([...c.id.split(':'), '--help'])
      expect(r.code, `${c.id}: ${r.stderr}`).toBe(0)
      expect(r.stdout).toContain('EXAMPLES')
      expect(r.stdout).toContain('--json')
    }
  })

  it('--version (answered without loading oclif) prints exactly what oclif would', async () => {
    const config = await Config.load(ROOT)
    for (const flag of ['--version', '-v']) {
      const r = await runCli([flag])
      expect(r.code).toBe(0)
      expect(r.stdout).toBe(`${config.userAgent}\n`)
    }
  })

  it('runs the same without the code cache (a cache from another Node.js is rejected the same way)', async () => {
    const cached = await runCli(['metadata', 'show', '--help'])
    const uncached = await runCli(['metadata', 'show', '--help'], {env: {TRUSTCTL_NO_CODE_CACHE: '1'}})
    expect(uncached.code).toBe(0)
    expect(uncached.stdout).toBe(cached.stdout)
  })

  it('plugin commands load through the bundle (help, autocomplete)', async () => {
    const help = await runCli(['help', 'metadata', 'show'])
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toContain('--trust-domain')
    expect(help.stderr).toBe('')
  })

  it('root --help and the autocomplete plugin answer', async () => {
    const help = await runCli(['--help'])
    expect(help.stdout).toMatch(/TOPICS[\s\S]*metadata/)
    const home = mkdtempSync(join(tmpdir(), 'trustctl-ac-'))
    const ac = await runCli(['autocomplete', 'bash'], {env: {HOME: home, XDG_CACHE_HOME: undefined}})
    rmSync(home, {recursive: true, force: true})
    expect(ac.code).toBe(0)
    expect(ac.stdout).toMatch(/trustctl/)
  })

  it('an unknown command is a usage error', async () => {
    const r = await runCli(['no-such-command'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/not found/)
  })
})
