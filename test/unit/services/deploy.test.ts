import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {ROOT} from '../../helpers/cli.js'

const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, unknown>}>}
const unitsDir = join(ROOT, 'deploy', 'systemd')

function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {}
  let section = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const s = /^\[(\w+)\]$/.exec(line)
    if (s) {
      section = s[1]!
      out[section] = {}
      continue
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line)
    expect(kv, `not KEY=value: ${line}`).not.toBeNull()
    ;(out[section]![kv![1]!] ??= []).push(kv![2]!)
  }
  return out
}

describe('deploy/ files', () => {
  const units = readdirSync(unitsDir).filter((f) => f.endsWith('.service'))

  it('ship a unit per service', () => {
    expect(units.sort()).toEqual(['trustctl-publisher.service', 'trustctl-signer-http.service', 'trustctl-signer-unix.service', 'trustctl-verifier.service'])
  })

  it.each(readdirSync(unitsDir).filter((f) => f.endsWith('.service')))('%s runs a real trustctl command with real flags', (file) => {
    const unit = parseUnit(readFileSync(join(unitsDir, file), 'utf8'))
    expect(Object.keys(unit)).toEqual(['Unit', 'Service', 'Install'])
    const exec = unit.Service!.ExecStart![0]!.split(/\s+/)
    expect(exec[0]).toBe('/usr/bin/trustctl')
    const words = exec.slice(1).filter((w) => !w.startsWith('$'))
    const idWords = words.slice(0, words.findIndex((w) => w.startsWith('-')))
    const id = idWords.join(':')
    expect(manifest.commands[id], `no command ${id}`).toBeDefined()
    for (const w of words.filter((w) => w.startsWith('--'))) expect(manifest.commands[id]!.flags, `${id} has no ${w}`).toHaveProperty(w.slice(2))
    expect(unit.Service!.NoNewPrivileges).toEqual(['yes'])
    expect(unit.Service!.ProtectSystem).toEqual(['strict'])
  })

  it('runs only the TPM signer with TPM access; the network-facing services are unprivileged', () => {
    const su = parseUnit(readFileSync(join(unitsDir, 'trustctl-signer-unix.service'), 'utf8')).Service!
    expect(su.DeviceAllow).toEqual(['/dev/tpmrm0 rw'])
    expect(su.RestrictAddressFamilies).toEqual(['AF_UNIX'])
    for (const f of ['trustctl-signer-http.service', 'trustctl-verifier.service']) {
      const s = parseUnit(readFileSync(join(unitsDir, f), 'utf8')).Service!
      expect(s.DynamicUser, f).toEqual(['yes'])
      expect(s.PrivateDevices, f).toEqual(['yes'])
      expect(s.CapabilityBoundingSet, f).toEqual([''])
    }
  })

  it('the SPIRE agent snippet points at the verifier socket with the pem format', () => {
    const snippet = readFileSync(join(ROOT, 'deploy', 'spire', 'agent.conf.snippet'), 'utf8')
    expect(snippet).toContain('trust_bundle_url = "http://localhost/trustbundle?instance=main"')
    expect(snippet).toContain('trust_bundle_unix_socket = "/var/run/spire/server-attestor-tpm/verifier.sock"')
    expect(snippet).toContain('trust_bundle_format = "pem"')
  })
})
