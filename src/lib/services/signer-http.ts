import {lookup} from 'node:dns/promises'
import {readFile} from 'node:fs/promises'
import {createServer as createHttpServer, type Server} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import {isIP} from 'node:net'
import {createSecureContext} from 'node:tls'

import {fileErrorFrom} from '../core/errors.js'
import {createHttpClient} from '../core/http.js'
import type {Logger} from '../core/log.js'
import {verifyOuterLayer} from '../bundle/verify.js'
import type {SignerHttpConfig} from './config.js'
import {handler, HttpStatusError, readBody, send} from './http.js'
import {listenTcp, ServiceError} from './listen.js'

/** IPs of allowed-addrs; host names are resolved once, at start, as the reference does. */
export async function resolveAllowed(entries: string[]): Promise<Set<string>> {
  const out = new Set<string>()
  for (const e of entries) {
    if (isIP(e)) {
      out.add(normalizeIp(e))
      continue
    }
    try {
      for (const a of await lookup(e, {all: true})) out.add(normalizeIp(a.address))
    } catch (err) {
      throw new ServiceError('CONFIG_INVALID', `allowed-addrs: cannot resolve ${e} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
  }
  return out
}

function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip
}

/**
 * spire-server-attestor-tpm-signer-http: POST /sign accepts a token whose outer layer verifies with
 * the primary (or backup) key and forwards it to signer-unix as application/jwt. Beyond the
 * reference: optional TLS, a body limit, header and request timeouts, GET /healthz, every rejection
 * logged with its reason.
 */
export async function startSignerHttp(cfg: SignerHttpConfig, logger: Logger): Promise<{server: Server; port: number}> {
  const allowed = await resolveAllowed(cfg.allowedAddrs)
  const unix = await createHttpClient({unixSockets: true, retries: 0, timeoutMs: 30_000, logger})
  const keys = cfg.backup ? [cfg.primary, cfg.backup] : [cfg.primary]

  const app = handler('signer-http', logger, async (req, res) => {
    const peer = normalizeIp(req.socket.remoteAddress ?? '')
    if (!allowed.has(peer)) throw new HttpStatusError(401, `peer ${peer} is not in allowed-addrs`)
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/healthz' && req.method === 'GET') {
      send(res, 200, 'ok\n')
      return
    }
    if (path !== '/sign') throw new HttpStatusError(404, `no such endpoint ${path}`)
    if (req.method !== 'POST') throw new HttpStatusError(405, `${req.method} not allowed; use POST`)
    const body = (await readBody(req, cfg.bodyLimit)).toString('utf8').trim()
    if (body === '') throw new HttpStatusError(400, 'empty body')
    let used
    try {
      used = verifyOuterLayer(body, keys, {maxBytes: cfg.bodyLimit})
    } catch (err) {
      throw new HttpStatusError(400, `token refused, not forwarded: ${(err as Error).message}`)
    }
    if (cfg.backup && used.key === cfg.backup) logger.warn(`signer-http: backup key ${cfg.backup.name} used for a request from ${peer}`)
    let r
    try {
      r = await unix.post(`http://unix:${cfg.socket}:/sign`, {body, headers: {'content-type': 'application/jwt'}, throwHttpErrors: false})
    } catch (err) {
      throw new HttpStatusError(502, `signer-unix at ${cfg.socket} unreachable: ${(err as Error).message}`)
    }
    if (r.statusCode !== 200) throw new HttpStatusError(502, `signer-unix answered ${r.statusCode}: ${String(r.body).trim()}`)
    send(res, 200, r.body, 'application/jwt')
  })

  // Slow clients cannot hold connections: headers and whole requests have deadlines, checked
  // every 500 ms (node's default check interval is 30 s).
  const limits = {headersTimeout: cfg.headersTimeoutMs, requestTimeout: cfg.requestTimeoutMs, connectionsCheckingInterval: 500, keepAliveTimeout: 5000}
  const server: Server = cfg.tlsCert ? (createHttpsServer({...limits, ...(await tlsFiles(cfg.tlsCert, cfg.tlsKey as string))}, app) as unknown as Server) : createHttpServer(limits, app)
  const {port} = await listenTcp(server, cfg.listenAddr)
  return {server, port}
}

/** tls-cert and tls-key, read and checked as a pair before listening: a bad file is a config error, not a crash. */
async function tlsFiles(certPath: string, keyPath: string): Promise<{cert: Buffer; key: Buffer}> {
  const read = (p: string) => readFile(p).catch((err) => {
    throw fileErrorFrom(err, p, 'read the TLS certificate or key')
  })
  const [cert, key] = await Promise.all([read(certPath), read(keyPath)])
  try {
    createSecureContext({cert, key})
  } catch (err) {
    throw new ServiceError('CONFIG_INVALID', `tls-cert ${certPath} / tls-key ${keyPath}: ${(err as Error).message}`)
  }
  return {cert, key}
}
