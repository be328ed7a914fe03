import {chmodSync, lstatSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {writeFileAtomic} from '../../../src/lib/core/atomic-file.js'
import {useTmpDir} from '../../helpers/tmp.js'

const tmp = useTmpDir()

describe('writeFileAtomic', () => {
  it('creates the file with the exact mode and missing parents with the chosen mode, ignoring the umask', async () => {
    const dir = tmp()
    const file = join(dir, 'a', 'b', 'secret')
    const old = process.umask(0o000)
    try {
      expect(await writeFileAtomic(file, 'x', {mode: 0o600, dirMode: 0o700})).toBe('created')
    } finally {
      process.umask(old)
    }
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o700)
    expect(statSync(join(dir, 'a', 'b')).mode & 0o777).toBe(0o700)
    expect(readFileSync(file, 'utf8')).toBe('x')
  })

  it('leaves existing directories alone', async () => {
    const dir = tmp()
    chmodSync(dir, 0o755)
    await writeFileAtomic(join(dir, 'f'), 'x', {mode: 0o644, dirMode: 0o700})
    expect(statSync(dir).mode & 0o777).toBe(0o755)
  })

  it('refuses to replace without force and leaves the file untouched', async () => {
    const dir = tmp()
    const file = join(dir, 'f')
    writeFileSync(file, 'old', {mode: 0o640})
    await expect(writeFileAtomic(file, 'new', {mode: 0o600})).rejects.toMatchObject({code: 'FILE_EXISTS', exitCode: 8})
    expect(readFileSync(file, 'utf8')).toBe('old')
    expect(statSync(file).mode & 0o777).toBe(0o640)
    expect(readdirSync(dir)).toEqual(['f']) // no temp file left behind
  })

  it('replaces with force, atomically, with the new mode', async () => {
    const dir = tmp()
    const file = join(dir, 'f')
    writeFileSync(file, 'old', {mode: 0o644})
    expect(await writeFileAtomic(file, 'new', {mode: 0o600, force: true})).toBe('replaced')
    expect(readFileSync(file, 'utf8')).toBe('new')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual(['f'])
  })

  it('refuses to write through a path whose parent is a file', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'plain'), 'x')
    await expect(writeFileAtomic(join(dir, 'plain', 'f'), 'x', {mode: 0o600})).rejects.toMatchObject({code: 'FILE_IO'})
  })

  it('does not follow a symlink at the target when refusing', async () => {
    const dir = tmp()
    const {symlinkSync} = await import('node:fs')
    symlinkSync(join(dir, 'nowhere'), join(dir, 'link'))
    await expect(writeFileAtomic(join(dir, 'link'), 'x', {mode: 0o600})).rejects.toMatchObject({code: 'FILE_EXISTS'})
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true)
  })
})
