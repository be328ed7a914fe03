import {createHash} from 'node:crypto'

import {createHttpClient, toNetworkError} from '../core/http.js'
import type {Logger} from '../core/log.js'
import {defineErrorClass, ExitCode} from '../core/errors.js'
import type {Keyset} from '../bundle/verify.js'
import {verifyToken} from '../bundle/verify.js'

export const PublishError = defineErrorClass('PublishError', {
  SIGN_FAILED: ExitCode.UNAVAILABLE,
  REMOTE_SIGN_FAILED: ExitCode.UNAVAILABLE,
  PUBLISH_FAILED: ExitCode.UNAVAILABLE,
  VERIFY_FAILED: ExitCode.VERIFICATION,
})
export type PublishError = InstanceType<typeof PublishError>

export interface PublishOptions {
  socket: string
  urls: string[]
  verifyChain?: Keyset
  logger: Logger
  caFile?: string
  insecure?: boolean
  timeoutMs?: number
}

/**
 * The reference publisher's one round: sign the PEM bundle through the local signer-unix, then
 * through each remote signer-http in order (each adds a layer), then POST the final token to
 * signer-unix /publish. With verifyChain, a token that does not verify is never published.
 */
export async function publishOnce(bundlePem: string, opts: PublishOptions): Promise<string> {
  const local = await createHttpClient({unixSockets: true, retries: 0, timeoutMs: opts.timeoutMs ?? 30_000, logger: opts.logger})
  const unixUrl = (path: string) => `http://unix:${opts.socket}:${path}`
  const post = async (url: string, body: string, type: string, what: string, code: 'SIGN_FAILED' | 'REMOTE_SIGN_FAILED' | 'PUBLISH_FAILED', client = local) => {
    let r
    try {
      r = await client.post(url, {body, headers: {'content-type': type}, throwHttpErrors: false})
    } catch (err) {
      throw new PublishError(code, `${what}: ${toNetworkError(err, url).message}`)
    }
    if (r.statusCode !== 200) throw new PublishError(code, `${what}: HTTP ${r.statusCode} ${String(r.body).trim()}`)
    return String(r.body).trim()
  }
  let token = await post(unixUrl('/sign'), bundlePem, 'application/x-pem-file', `signing through ${opts.socket}`, 'SIGN_FAILED')
  if (opts.urls.length > 0) {
    const remote = await createHttpClient({retries: 0, timeoutMs: opts.timeoutMs ?? 30_000, caFile: opts.caFile, insecure: opts.insecure, logger: opts.logger})
    for (const url of opts.urls) token = await post(url, token, 'application/jwt', `signing through ${url}`, 'REMOTE_SIGN_FAILED', remote)
  }
  if (opts.verifyChain) {
    try {
      verifyToken(token, opts.verifyChain)
    } catch (err) {
      throw new PublishError('VERIFY_FAILED', `not published: the new token does not verify with the expected chain: ${(err as Error).message}`)
    }
  }
  await post(unixUrl('/publish'), token, 'application/jwt', `publishing through ${opts.socket}`, 'PUBLISH_FAILED')
  return token
}

export function bundleDigest(pem: string): string {
  return createHash('sha256').update(pem).digest('hex')
}
