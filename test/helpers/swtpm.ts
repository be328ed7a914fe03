import {spawn, type ChildProcess} from 'node:child_process'
import {copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export interface Swtpm {
  dir: string
  sock: string
  tcti: string
  pid: number
  /** Environment for tpm2-tools and trustctl with this TPM selected. */
  env: Record<string, string>
  stop(): Promise<void>
  /** SIGSTOP / SIGCONT: an unresponsive TPM. */
  pause(): void
  resume(): void
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL') // backstop: never leave a TPM behind
})

/**
 * A fresh software TPM on a unix socket in a private temp dir (specs/tpm.md §2.3): ready when its
 * pid file holds its pid. `stateFrom` copies a saved tpm2-00.permall in first (keys included).
 */
export async function startSwtpm(opts: {stateFrom?: string; timeoutMs?: number} = {}): Promise<Swtpm> {
  const dir = mkdtempSync(join(tmpdir(), 'swtpm-'))
  if (opts.stateFrom) copyFileSync(opts.stateFrom, join(dir, 'tpm2-00.permall'))
  const sock = join(dir, 'sock')
  const child = spawn(
    'swtpm',
    ['socket', '--tpm2', '--tpmstate', `dir=${dir}`, '--server', `type=unixio,path=${sock}`, '--ctrl', `type=unixio,path=${sock}.ctrl`,
      '--flags', 'not-need-init,startup-clear', '--log', `file=${join(dir, 'swtpm.log')}`, '--pid', `file=${join(dir, 'pid')}`],
    {stdio: ['ignore', 'ignore', 'pipe']},
  )
  running.add(child)
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  let exited = false
  const exit = new Promise<void>((resolve) => child.on('close', () => {
    exited = true
    running.delete(child)
    resolve()
  }))
  const deadline = Date.now() + (opts.timeoutMs ?? 5000)
  for (;;) {
    const pidFile = join(dir, 'pid')
    if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() === String(child.pid)) break
    if (exited) {
      const log = existsSync(join(dir, 'swtpm.log')) ? readFileSync(join(dir, 'swtpm.log'), 'utf8') : ''
      rmSync(dir, {recursive: true, force: true})
      throw new Error(`swtpm exited at start: ${stderr}${log}`)
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      rmSync(dir, {recursive: true, force: true})
      throw new Error('swtpm start timeout')
    }
    await new Promise((r) => setTimeout(r, 2))
  }
  const tcti = `swtpm:path=${sock}`
  return {
    dir,
    sock,
    tcti,
    pid: child.pid!,
    env: {TPM2TOOLS_TCTI: tcti},
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async stop() {
      if (!exited) {
        child.kill('SIGCONT')
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
        await exit
        clearTimeout(timer)
      }
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

/** Runs a tpm2-tools program against a TPM, for test set-up that trustctl must not do itself. */
export async function tpm2(swtpm: Swtpm, tool: string, args: string[], input?: string | Buffer, cwd?: string): Promise<string> {
  const {runProcess} = await import('../../src/lib/core/subprocess.js')
  const r = await runProcess(tool, args, {timeoutMs: 30_000, input, cwd: cwd ?? swtpm.dir, env: {...process.env, ...swtpm.env}})
  if (r.exitCode !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout.toString()
}
