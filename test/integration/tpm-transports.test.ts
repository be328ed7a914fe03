import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {json, runCli} from '../helpers/cli.js'
import {startSwtpm, tpm2, type Swtpm} from '../helpers/swtpm.js'

// The direct (wire) path and the tpm2-tools path must do the same thing to the TPM.
let tpm: Swtpm
let work: string
beforeAll(async () => {
  tpm = await startSwtpm()
  work = mkdtempSync(join(tmpdir(), 'trustctl-transport-'))
})
afterAll(async () => {
  await tpm?.stop()
  rmSync(work, {recursive: true, force: true})
})

const cli = (args: string[], transport: 'auto' | 'tools', input?: string) =>
  runCli([...args, '--tcti', tpm.tcti], {cwd: work, input, env: {HOME: work, TRUSTCTL_TPM_TRANSPORT: transport}})

const nameOf = async (h: string) => /^name: (\w+)/m.exec(await tpm2(tpm, 'tpm2_readpublic', ['-c', h]))![1]

describe('wire and tpm2-tools transports', () => {
  it('create the same storage key (primary keys are deterministic: same seed, same TCG template)', async () => {
    const viaTools = await cli(['tpm', 'provision', '--json'], 'tools')
    expect(viaTools.code, viaTools.stderr).toBe(0)
    expect(json(viaTools)).toMatchObject({transport: 'tools', srk: {status: 'created'}, key: {status: 'created'}})
    const srkByTools = await nameOf('0x81000001')
    await tpm2(tpm, 'tpm2_evictcontrol', ['-C', 'o', '-c', '0x81008006'])
    await tpm2(tpm, 'tpm2_evictcontrol', ['-C', 'o', '-c', '0x81000001'])
    const viaWire = await cli(['tpm', 'provision', '--json'], 'auto')
    expect(viaWire.code, viaWire.stderr).toBe(0)
    expect(json(viaWire)).toMatchObject({transport: 'wire', srk: {status: 'created'}, key: {status: 'created'}})
    expect(await nameOf('0x81000001')).toBe(srkByTools)
    const pub = await tpm2(tpm, 'tpm2_readpublic', ['-c', '0x81000001'])
    expect(pub).toContain('fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|decrypt')
    expect((await tpm2(tpm, 'tpm2_getcap', ['handles-transient'])).trim()).toBe('')
  })

  it('export the same PEM and make the same signatures', async () => {
    const [a, b] = [await cli(['tpm', 'pubkey'], 'auto'), await cli(['tpm', 'pubkey'], 'tools')]
    expect(a.stdout).toBe(b.stdout)
    const [s1, s2] = [await cli(['tpm', 'sign', '--json'], 'auto', 'same message'), await cli(['tpm', 'sign', '--json'], 'tools', 'same message')]
    expect(json(s1)).toMatchObject({transport: 'wire'})
    expect(json(s2)).toMatchObject({transport: 'tools'})
    expect(json(s1).signature).toBe(json(s2).signature)
  })

  it('report the same errors: a missing handle is exit 3 either way', async () => {
    for (const t of ['auto', 'tools'] as const) {
      const r = await cli(['tpm', 'sign', '--handle', '0x81008009', '--json'], t, 'x')
      expect(r.code).toBe(3)
      expect(json(r).error.code).toBe('HANDLE_NOT_FOUND')
    }
  })

  it('an unknown transport value is a usage error', async () => {
    const r = await runCli(['tpm', 'status', '--tcti', tpm.tcti, '--json'], {cwd: work, env: {HOME: work, TRUSTCTL_TPM_TRANSPORT: 'carrier-pigeon'}})
    expect(r.code).toBe(2)
  })
})
