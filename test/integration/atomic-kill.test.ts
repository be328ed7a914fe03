import {spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {ROOT} from '../helpers/cli.js'
import {useTmpDir} from '../helpers/tmp.js'

const tmp = useTmpDir()
const CHILD = join(ROOT, 'test', 'fixtures', 'atomic-writer-child.mjs')
const MODULE = join(ROOT, 'dist', 'lib', 'core', 'atomic-file.js')

/** A version is complete when its header, body length and trailer agree. */
function completeVersion(text: string): number | undefined {
  const m = /^v=(\d+);len=(\d+);([a-z]*);end$/.exec(text)
  if (!m) return undefined
  const [, n, len, body] = m
  if (body!.length !== Number(len)) return undefined
  if (body !== String.fromCharCode(97 + (Number(n) % 26)).repeat(body!.length)) return undefined
  return Number(n)
}

function runAndKill(file: string, first: number, delayMs: number): Promise<'killed' | 'finished'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, MODULE, file, String(first), '200'], {stdio: ['ignore', 'pipe', 'inherit']})
    let out = ''
    let timer: NodeJS.Timeout | undefined
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (out.includes('ready') && !timer) timer = setTimeout(() => child.kill('SIGKILL'), delayMs)
    })
    child.on('error', reject)
    child.on('close', (_code, signal) => {
      if (timer) clearTimeout(timer)
      resolve(signal === 'SIGKILL' ? 'killed' : 'finished')
    })
  })
}

describe('atomic writer under SIGKILL', () => {
  it('200 kills at random points while replacing a file leave the old or the new complete content, never a torn or empty file', async () => {
    const dir = tmp()
    const file = join(dir, 'target')
    writeFileSync(file, 'v=0;len=1;a;end')
    let killed = 0
    let last = 0
    for (let trial = 0; trial < 200; trial++) {
      const first = trial * 1000 + 1
      // Writes take ~0.5 ms each here; kill anywhere in the first ~40 ms of the run.
      const outcome = await runAndKill(file, first, Math.floor(Math.random() * 40))
      if (outcome === 'killed') killed++
      const text = readFileSync(file, 'utf8')
      const n = completeVersion(text)
      expect(n, `trial ${trial}: torn content of ${text.length} bytes`).toBeDefined()
      // Either the previous trial's last version survives, or one of this trial's versions.
      expect(n === last || (n! >= first && n! < first + 200), `trial ${trial}: unexpected version ${n}`).toBe(true)
      last = n!
    }
    expect(killed).toBeGreaterThan(150)
  }, 240_000)
})
