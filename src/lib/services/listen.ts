import {promises as fs} from 'node:fs'
import {connect} from 'node:net'
import type {Server} from 'node:http'

import {defineErrorClass, ExitCode, fileErrorFrom} from '../core/errors.js'

export const ServiceError = defineErrorClass('ServiceError', {
  CONFIG_INVALID: ExitCode.USAGE,
  SOCKET_IN_USE: ExitCode.CONFLICT,
  LISTEN_FAILED: ExitCode.UNAVAILABLE,
})
export type ServiceError = InstanceType<typeof ServiceError>

/** True when a live server accepts connections on the unix socket. */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/**
 * Listens on a unix socket with the given mode. A socket file left by a dead server is removed; a
 * socket a live server answers on is refused (SOCKET_IN_USE, exit 8); another kind of file there is
 * never removed.
 */
export async function listenUnix(server: Server, path: string, mode: number): Promise<void> {
  const st = await fs.lstat(path).catch(() => undefined)
  if (st) {
    if (!st.isSocket()) throw new ServiceError('SOCKET_IN_USE', `${path} exists and is not a socket; not removing it`)
    if (await socketIsLive(path)) throw new ServiceError('SOCKET_IN_USE', `a server is already listening on ${path}`, {suggestions: ['stop it first, or configure another socket']})
    await fs.unlink(path).catch((err) => {
      throw fileErrorFrom(err, path, 'remove the stale socket')
    })
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new ServiceError('LISTEN_FAILED', `cannot listen on ${path}: ${err.code ?? err.message}`)))
    server.listen(path, () => resolve())
  })
  await fs.chmod(path, mode).catch((err) => {
    server.close()
    throw fileErrorFrom(err, path, 'set the socket mode')
  })
}

export async function listenTcp(server: Server, addr: string): Promise<{host: string; port: number}> {
  const m = /^(?:\[?([^\]]*)\]?)?:(\d+)$/.exec(addr.trim())
  if (!m) throw new ServiceError('CONFIG_INVALID', `listen-addr "${addr}" is not [host]:port`)
  const host = m[1] || '0.0.0.0'
  const port = Number(m[2])
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new ServiceError('LISTEN_FAILED', `cannot listen on ${addr}: ${err.code ?? err.message}`)))
    server.listen(port, host, () => resolve())
  })
  const a = server.address()
  return {host, port: typeof a === 'object' && a ? a.port : port}
}

/**
 * Stops on SIGTERM / SIGINT: no new connections, in-flight requests finish (up to graceMs), idle
 * keep-alive connections are closed, the unix socket file is removed, then onStopped runs.
 */
export function stopOnSignals(server: Server, opts: {socketPath?: string; graceMs?: number; onStopped: () => void; log: (m: string) => void}): void {
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    opts.log(`${signal}: finishing in-flight requests`)
    const force = setTimeout(() => server.closeAllConnections(), opts.graceMs ?? 10_000)
    force.unref()
    server.close(() => {
      clearTimeout(force)
      const done = () => opts.onStopped()
      if (opts.socketPath) fs.unlink(opts.socketPath).catch(() => undefined).finally(done)
      else done()
    })
    server.closeIdleConnections()
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
}
