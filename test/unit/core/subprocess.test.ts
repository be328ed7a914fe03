import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {runProcess} from '../../../src/lib/core/subprocess.js'
import {useTmpDir} from '../../helpers/tmp.js'

const tmp = useTmpDir()

describe('runProcess', () => {
  it('passes arguments as an array: shell syntax is not interpreted', async () => {
    const dir = tmp()
    const marker = join(dir, 'pwned')
    const r = await runProcess('printf', ['%s', `$(touch ${marker}); echo hi`], {timeoutMs: 5000})
    expect(r.exitCode).toBe(0)
    expect(r.stdout.toString()).toBe(`$(touch ${marker}); echo hi`)
    expect(existsSync(marker)).toBe(false)
  })

  it('captures stderr and returns a non-zero exit instead of throwing', async () => {
    const r = await runProcess(process.execPath, ['-e', 'process.stderr.write("ERROR: 0x18b"); process.exit(3)'], {timeoutMs: 5000})
    expect(r.exitCode).toBe(3)
    expect(r.stderr).toBe('ERROR: 0x18b')
  })

  it('feeds stdin', async () => {
    const r = await runProcess('cat', [], {timeoutMs: 5000, input: 'bytes in'})
    expect(r.stdout.toString()).toBe('bytes in')
  })

  it('kills a hung program at the timeout (TOOL_TIMEOUT, exit 5)', async () => {
    const started = Date.now()
    const p = runProcess(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'], {timeoutMs: 300, killGraceMs: 200})
    await expect(p).rejects.toMatchObject({code: 'TOOL_TIMEOUT', exitCode: 5})
    // It ignored SIGTERM, so it was SIGKILLed after the grace period: the promise settled, no process is left.
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('reports a missing program as TOOL_MISSING with the install hint', async () => {
    await expect(runProcess('tpm2_definitely_missing', [], {timeoutMs: 1000, installHint: 'apt-get install tpm2-tools'})).rejects.toMatchObject({
      code: 'TOOL_MISSING',
      exitCode: 5,
      suggestions: ['apt-get install tpm2-tools'],
    })
  })
})
