import {createServer, type Server} from 'node:http'
import {join} from 'node:path'

import {writeFileAtomic} from '../core/atomic-file.js'
import {isTrustctlError} from '../core/errors.js'
import type {Logger} from '../core/log.js'
import {verifyKeyFromPem, type Signer, type VerifyKey} from '../bundle/keys.js'
import {createInnermostToken, createNestedToken} from '../bundle/token.js'
import {verifyInnermostLayer} from '../bundle/verify.js'
import type {SignerUnixConfig} from './config.js'
import {handler, HttpStatusError, readBody, send} from './http.js'
import {listenUnix} from './listen.js'

export interface SignerUnixDeps {
  signer: Signer
  /** The signer's own public key PEM: /publish only accepts tokens whose outer layer it signed. */
  publicKeyPem: string
  logger: Logger
}

/**
 * spire-server-attestor-tpm-signer-unix: POST /sign (PEM body -> innermost token; Content-Type
 * application/jwt -> a nested layer), POST /publish (write dir/tmpfile, then rename to dir/filename,
 * 0644), on a unix socket (0660). /publish only takes a token that this signer started: its
 * innermost layer verifies with this signer's own key (in the HA flow the outer layers are the
 * remote signers'), and every layer is a well-formed, current JWS.
 */
export async function startSignerUnix(cfg: SignerUnixConfig, deps: SignerUnixDeps): Promise<Server> {
  const ownKey: VerifyKey = verifyKeyFromPem('this signer', deps.publicKeyPem)
  let publishing: Promise<unknown> = Promise.resolve()
  const target = join(cfg.dir, cfg.filename)

  const server = createServer(
    {connectionsCheckingInterval: 1000, headersTimeout: 10_000, requestTimeout: 60_000},
    handler('signer-unix', deps.logger, async (req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      if (path !== '/sign' && path !== '/publish') throw new HttpStatusError(404, `no such endpoint ${path}`)
      if (req.method !== 'POST') throw new HttpStatusError(405, `${req.method} not allowed; use POST`)
      const body = (await readBody(req, cfg.bodyLimit)).toString('utf8')
      if (body.trim() === '') throw new HttpStatusError(400, 'empty body')
      if (path === '/sign') {
        const nested = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() === 'application/jwt'
        const opts = {signer: deps.signer, ttlMs: cfg.durationMs, ...(cfg.issuer ? {issuer: cfg.issuer} : {})}
        let token: string
        try {
          token = nested ? await createNestedToken(body, opts) : await createInnermostToken(body, opts)
        } catch (err) {
          if (isTrustctlError(err) && (err.code === 'INVALID_BUNDLE' || err.code === 'TOKEN_MALFORMED')) throw new HttpStatusError(400, err.message)
          throw err
        }
        deps.logger.info(`signer-unix: signed a${nested ? ' nested' : 'n innermost'} token`)
        send(res, 200, token, 'application/jwt')
        return
      }
      try {
        verifyInnermostLayer(body, [ownKey], {maxBytes: cfg.bodyLimit})
      } catch (err) {
        throw new HttpStatusError(400, `not published: ${(err as Error).message}`)
      }
      // One publication at a time: the configured tmpfile is a single fixed name.
      const write = publishing.then(() => writeFileAtomic(target, body.trim(), {mode: 0o644, dirMode: 0o755, force: true, tmpName: cfg.tmpfile}))
      publishing = write.catch(() => undefined)
      await write
      deps.logger.info(`signer-unix: published ${target}`)
      send(res, 200, 'published\n')
    }),
  )
  await listenUnix(server, cfg.socket, 0o660)
  return server
}
