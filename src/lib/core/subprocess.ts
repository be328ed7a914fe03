import {spawn} from 'node:child_process'

import {ProcessError} from './errors.js'

export interface RunOptions {
  /** Kill the process after this many milliseconds (SIGTERM, then SIGKILL after killGraceMs). */
  timeoutMs: number
  killGraceMs?: number
  input?: string | Uint8Array
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Hint shown when the program is not installed, e.g. "apt-get install tpm2-tools". */
  installHint?: string
  /** Stop collecting stdout beyond this many bytes (the process is killed). Default 64 MiB. */
  maxStdoutBytes?: number
}

export interface RunResult {
  command: string
  args: string[]
  exitCode: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: string
  durationMs: number
}

/**
 * Runs a program with an argument array (never a shell, so no quoting or injection issues) and a
 * hard timeout. A non-zero exit is returned, not thrown: the caller decodes the domain failure
 * from stderr. Missing program and timeout are thrown as ProcessError.
 */
export function runProcess(command: string, args: string[], opts: RunOptions): Promise<RunResult> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    let child
    try {
      child = spawn(command, args, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
      })
    } catch (err) {
      reject(spawnError(command, err, opts))
      return
    }
    const out: Buffer[] = []
    let outBytes = 0
    const maxOut = opts.maxStdoutBytes ?? 64 * 1024 * 1024
    let err = ''
    let timedOut = false
    let overflow = false
    let settled = false
    let killTimer: NodeJS.Timeout | undefined

    const kill = () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killGraceMs ?? 2000)
      killTimer.unref()
    }
    const timer = setTimeout(() => {
      timedOut = true
      kill()
    }, opts.timeoutMs)

    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length
      if (outBytes > maxOut) {
        overflow = true
        kill()
        return
      }
      out.push(chunk)
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      if (err.length < 1024 * 1024) err += chunk
    })
    child.stdin.on('error', () => undefined) // EPIPE when the program exits without reading
    child.on('error', (e) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      reject(spawnError(command, e, opts))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (killTimer) clearTimeout(killTimer)
      if (settled) return
      settled = true
      const durationMs = Date.now() - started
      if (timedOut) {
        reject(new ProcessError('TOOL_TIMEOUT', `${command} did not finish within ${opts.timeoutMs} ms and was killed`, {
          details: {command, args, timeoutMs: opts.timeoutMs, stderr: err.trim()},
        }))
        return
      }
      if (overflow) {
        reject(new ProcessError('TOOL_FAILED', `${command} wrote more than ${maxOut} bytes to stdout and was killed`, {details: {command, args}}))
        return
      }
      resolve({command, args, exitCode: code, signal, stdout: Buffer.concat(out), stderr: err, durationMs})
    })

    if (opts.input !== undefined) child.stdin.end(opts.input)
    else child.stdin.end()
  })
}

function spawnError(command: string, err: unknown, opts: RunOptions): ProcessError {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') {
    return new ProcessError('TOOL_MISSING', `${command} is not installed (not found on PATH)`, {
      suggestions: opts.installHint ? [opts.installHint] : [],
      details: {command},
      cause: err,
    })
  }
  return new ProcessError('TOOL_FAILED', `cannot run ${command}: ${(err as Error).message}`, {details: {command}, cause: err})
}
