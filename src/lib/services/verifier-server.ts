import {createServer, type Server} from 'node:http'

import {isTrustctlError} from '../core/errors.js'
import type {Logger} from '../core/log.js'
import type {VerifierConfig} from '../bundle/keyset-config.js'
import {readTokenSource} from '../bundle/source.js'
import {verifyToken} from '../bundle/verify.js'
import {handler, HttpStatusError, send} from './http.js'
import {listenUnix} from './listen.js'

/** Re-fetch this long before the token's earliest exp, so agents never get a bundle about to lapse. */
export const REFRESH_MARGIN_MS = 30_000

interface Cached {
  bundle: string
  refreshAt: number
}

/**
 * The reference verifier in listen mode: GET /trustbundle?instance=NAME -> 200 PEM bundle; 400
 * without instance; 404 unknown keyset; 502 when the token source cannot be read; 422 when the token
 * does not verify. A verified bundle is served from memory until shortly before its token expires.
 */
export async function startVerifier(cfg: VerifierConfig, opts: {socket: string; logger: Logger; caFile?: string; insecure?: boolean; timeoutMs?: number}): Promise<Server> {
  const cache = new Map<string, Cached>()
  const inflight = new Map<string, Promise<string>>()

  const refresh = async (name: string): Promise<string> => {
    const ks = cfg.keysets.get(name)
    if (!ks) throw new HttpStatusError(404, `unknown instance ${name}`)
    let text: string
    try {
      text = await readTokenSource(ks.url, {http: {caFile: opts.caFile, insecure: opts.insecure, timeoutMs: opts.timeoutMs, logger: opts.logger}})
    } catch (err) {
      if (isTrustctlError(err) && err.code === 'TOKEN_TOO_LARGE') throw new HttpStatusError(422, err.message)
      throw new HttpStatusError(502, `cannot read the token of ${name} from ${ks.url}: ${(err as Error).message}`)
    }
    let result
    try {
      result = verifyToken(text, ks, ks.issuers ? {issuers: ks.issuers} : {})
    } catch (err) {
      cache.delete(name)
      throw new HttpStatusError(422, `token of ${name} does not verify: ${(err as Error).message}`)
    }
    if (result.backupUsed) opts.logger.warn(`verifier: backup key ${ks.backup?.name} used for layer ${result.backupLayer} of instance ${name}`)
    const earliestExp = Math.min(...result.layers.map((l) => l.exp)) * 1000
    cache.set(name, {bundle: result.bundle, refreshAt: earliestExp - REFRESH_MARGIN_MS})
    return result.bundle
  }

  const server = createServer(
    {connectionsCheckingInterval: 1000, headersTimeout: 5000, requestTimeout: 30_000},
    handler('verifier', opts.logger, async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost')
      if (url.pathname !== '/trustbundle') throw new HttpStatusError(404, `no such endpoint ${url.pathname}`)
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpStatusError(405, `${req.method} not allowed; use GET`)
      const name = url.searchParams.get('instance')
      if (!name) throw new HttpStatusError(400, 'missing ?instance=NAME')
      if (!cfg.keysets.has(name)) throw new HttpStatusError(404, `unknown instance ${name}; configured: ${[...cfg.keysets.keys()].join(', ')}`)
      const hit = cache.get(name)
      let bundle: string
      if (hit && Date.now() < hit.refreshAt) {
        bundle = hit.bundle
      } else {
        // One fetch per instance at a time; concurrent requests share it.
        let p = inflight.get(name)
        if (!p) {
          p = refresh(name).finally(() => inflight.delete(name))
          inflight.set(name, p)
        }
        bundle = await p
      }
      send(res, 200, bundle, 'application/x-pem-file')
    }),
  )
  await listenUnix(server, opts.socket, 0o666)
  return server
}
