import {spawn} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {withTpmLock} from '../../../src/lib/tpm/lock.js'
import {useTmpDir} from '../../helpers/tmp.js'

const tmp = useTmpDir()

describe('TPM lock', () => {
  it('runs in-process callers one at a time, in order', async () => {
    const lock = join(tmp(), 'l')
    const log: string[] = []
    const job = (name: string, ms: number) =>
      withTpmLock(lock, 5000, async () => {
        log.push(`${name}+`)
        await new Promise((r) => setTimeout(r, ms))
        log.push(`${name}-`)
      })
    await Promise.all([job('a', 30), job('b', 5), job('c', 1)])
    expect(log).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-'])
    expect(existsSync(lock)).toBe(false)
  })

  it('waits for a lock held by a live process, and times out as TPM_BUSY naming it', async () => {
    const lock = join(tmp(), 'l')
    const holder = spawn('sleep', ['30'])
    try {
      writeFileSync(lock, String(holder.pid))
      await expect(withTpmLock(lock, 200, async () => 'never')).rejects.toMatchObject({code: 'TPM_BUSY', exitCode: 5, message: expect.stringContaining(String(holder.pid))})
    } finally {
      holder.kill()
    }
  })

  it('takes over a lock left by a dead process', async () => {
    const lock = join(tmp(), 'l')
    const dead = spawn('true')
    await new Promise((r) => dead.on('close', r))
    writeFileSync(lock, String(dead.pid))
    expect(await withTpmLock(lock, 2000, async () => 'ran')).toBe('ran')
    expect(existsSync(lock)).toBe(false)
  })

  it('releases the lock when the work fails', async () => {
    const lock = join(tmp(), 'l')
    await expect(withTpmLock(lock, 1000, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(existsSync(lock)).toBe(false)
    expect(await withTpmLock(lock, 1000, async () => 1)).toBe(1)
  })
})
