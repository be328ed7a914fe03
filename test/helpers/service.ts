import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import {request} from 'node:http'

import {BIN} from './cli.js'

export interface Service {
  proc: ChildProcess
  logs(): string
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL')
})

/** Starts `trustctl ARGS` as a long-running service and waits until ready() is true. */
export async function startService(args: string[], opts: {env?: Record<string, string>; cwd?: string; ready: () => boolean | Promise<boolean>; timeoutMs?: number}): Promise<Service> {
  const proc = spawn(process.execPath, [BIN, ...args], {cwd: opts.cwd, env: {...process.env, ...opts.env}, stdio: ['ignore', 'pipe', 'pipe']})
  running.add(proc)
  let out = ''
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d))
  const exited = new Promise<number | null>((resolve) =>
    proc.on('close', (code) => {
      running.delete(proc)
      resolve(code)
    }),
  )
  let done = false
  exited.then(() => (done = true))
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000)
  while (!(await opts.ready())) {
    if (done) throw new Error(`service exited before it was ready: ${out}`)
    if (Date.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`service not ready in time: ${out}`)
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  return {
    proc,
    logs: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!done) proc.kill(signal)
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}

export const socketReady = (path: string) => () => existsSync(path)

export interface Reply {
  status: number
  body: string
}

/** One HTTP request over a unix socket or TCP (with an optional local address), plain node:http. */
export function httpRequest(opts: {socketPath?: string; port?: number; host?: string; localAddress?: string; method?: string; path: string; body?: string | Buffer; headers?: Record<string, string>}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: opts.socketPath,
        host: opts.host ?? '127.0.0.1',
        port: opts.port,
        localAddress: opts.localAddress,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: {...(opts.body !== undefined ? {'content-length': String(Buffer.byteLength(opts.body))} : {}), ...opts.headers},
        agent: false,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => (body += d))
        res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
      },
    )
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** Resolves with the child's stdout so far once it matches `ready`; rejects if the child exits first. */
export function stdoutUntil(child: ChildProcess, ready: RegExp): Promise<string> {
  let out = ''
  child.stdout!.setEncoding('utf8')
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: string) => {
      out += d
      if (ready.test(out)) resolve(out)
    })
    child.on('exit', () => reject(new Error(`exited early: ${out}`)))
  })
}
