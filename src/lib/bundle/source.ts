import {createReadStream} from 'node:fs'
import {stat} from 'node:fs/promises'
import {resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {Readable} from 'node:stream'

import {fileErrorFrom, isTrustctlError} from '../core/errors.js'
import {createHttpClient, toNetworkError, type HttpClientOptions} from '../core/http.js'
import {BundleError} from './errors.js'
import {DEFAULT_MAX_TOKEN_BYTES} from './verify.js'

export interface SourceOptions {
  maxBytes?: number
  http?: HttpClientOptions
  stdin?: Readable
}

/** Reads at most maxBytes (+1 to detect "too large") from a stream. */
async function readLimited(stream: AsyncIterable<Buffer | string>, maxBytes: number, what: string, abort?: () => void): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    size += b.length
    if (size > maxBytes) {
      abort?.()
      throw new BundleError('TOKEN_TOO_LARGE', `${what} is over the ${maxBytes}-byte limit; not parsed`, {suggestions: ['raise the limit with --max-size if the bundle is really that large']})
    }
    chunks.push(b)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** A token from a path, file://, http:// or https:// URL, or - (stdin), never more than maxBytes. */
export async function readTokenSource(src: string, opts: SourceOptions = {}): Promise<string> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_TOKEN_BYTES
  if (src === '-') return (await readLimited(opts.stdin ?? process.stdin, maxBytes, 'the token on stdin')).trim()
  if (/^https?:\/\//i.test(src)) {
    const client = await createHttpClient({retries: 2, ...opts.http})
    const stream = client.stream(src)
    try {
      return (await readLimited(stream, maxBytes, `the token at ${src}`, () => stream.destroy())).trim()
    } catch (err) {
      if (isTrustctlError(err)) throw err
      const status = (err as {response?: {statusCode?: number}}).response?.statusCode
      if (status === 404) throw new BundleError('TOKEN_NOT_FOUND', `no token at ${src} (HTTP 404)`)
      const ne = toNetworkError(err, src)
      throw new BundleError('TOKEN_UNAVAILABLE', ne.message, {suggestions: ne.suggestions})
    }
  }
  const path = /^file:\/\//i.test(src) ? fileURLToPath(src) : resolve(src)
  try {
    const st = await stat(path)
    if (st.size > maxBytes) throw new BundleError('TOKEN_TOO_LARGE', `the token file ${path} is ${st.size} bytes, over the ${maxBytes}-byte limit; not parsed`)
    return (await readLimited(createReadStream(path), maxBytes, `the token file ${path}`)).trim()
  } catch (err) {
    if (isTrustctlError(err)) throw err
    const fe = fileErrorFrom(err, path, 'read token')
    throw fe.code === 'FILE_NOT_FOUND' ? new BundleError('TOKEN_NOT_FOUND', fe.message) : fe
  }
}
