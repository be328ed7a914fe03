import {readdirSync, readFileSync} from 'node:fs'
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

  it('--version, root --help and the autocomplete plugin answer', async () => {
    const version = await runCli(['--version'])
    expect(version.stdout).toMatch(/^trustctl\/\d+\.\d+\.\d+ linux-x64 node-v\d+/)
    const help = await runCli(['--help'])
    expect(help.stdout).toMatch(/TOPICS[\s\S]*metadata/)
    const ac = await runCli(['autocomplete', 'bash'])
    expect(ac.code).toBe(0)
    expect(ac.stdout).toMatch(/trustctl/)
  })

  it('an unknown command is a usage error', async () => {
    const r = await runCli(['no-such-command'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/not found/)
  })
})
