import {readFile} from 'node:fs/promises'
import {Agent as HttpAgentClass, request as httpRequest, type Agent as HttpAgent} from 'node:http'
import {Agent as HttpsAgentClass} from 'node:https'
import type {Agents, BeforeRequestHook, Got, RequestError} from 'got'

import {fileErrorFrom, isTrustctlError, NetworkError, TrustctlError, UsageError} from './errors.js'
import {loadGot, loadHpagent, loadProxyFromEnv} from './lazy.js'
import type {Logger} from './log.js'

export interface HttpClientOptions {
  /** Timeout of one attempt, in milliseconds. */
  timeoutMs?: number
  /** Retries for idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) on network errors and 408/429/5xx. POST is never retried here. */
  retries?: number
  /** First backoff delay; doubled each retry, with jitter. */
  retryBaseMs?: number
  retryMaxMs?: number
  /** PEM file of trusted CAs (replaces the system roots). */
  caFile?: string
  /** Skip certificate verification. Warns once. */
  insecure?: boolean
  logger?: Logger
  /** Base URL for relative paths. */
  prefixUrl?: string
  /** Allow http://unix:/path/to.sock:/request/path URLs (local services). */
  unixSockets?: boolean
  /** TLS client certificate and key (PEM files), for services that require mTLS. */
  clientCertFile?: string
  clientKeyFile?: string
  /**
   * Verify the certificate chain against caFile but not the host name: Keylime's generated
   * certificates are named "server"/"client", not after the host.
   */
  skipHostnameCheck?: boolean
  /** Keep connections open between requests (many requests to the same hosts). */
  keepAlive?: boolean
  /** Extra default headers. Never put secrets in logs: they are not logged by this client. */
  headers?: Record<string, string>
}

export const IDEMPOTENT_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE'] as const
const RETRY_STATUS = [408, 429, 500, 502, 503, 504, 521, 522, 524]

/**
 * The one HTTP client factory: timeouts, retries with backoff for idempotent requests only,
 * --ca-file / --insecure, HTTPS_PROXY / HTTP_PROXY / NO_PROXY, debug logging of method and URL
 * (never headers or bodies, so credentials are never logged).
 */
export async function createHttpClient(opts: HttpClientOptions = {}): Promise<Got> {
  const got = await loadGot()
  let ca: string | undefined
  if (opts.caFile) {
    try {
      ca = await readFile(opts.caFile, 'utf8')
    } catch (err) {
      throw fileErrorFrom(err, opts.caFile, 'read CA file')
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new NetworkError('TLS_UNTRUSTED', `CA file ${opts.caFile} holds no PEM certificate`, {
        suggestions: ['pass a PEM file with one or more "-----BEGIN CERTIFICATE-----" blocks'],
      })
    }
  }
  let cert: string | undefined
  let key: string | undefined
  if (opts.clientCertFile || opts.clientKeyFile) {
    if (!opts.clientCertFile || !opts.clientKeyFile) throw new UsageError('MISSING_FLAG', `a client certificate needs both --cert and --key (missing ${opts.clientCertFile ? '--key' : '--cert'})`)
    try {
      cert = await readFile(opts.clientCertFile, 'utf8')
      key = await readFile(opts.clientKeyFile, 'utf8')
    } catch (err) {
      throw fileErrorFrom(err, (err as {path?: string}).path ?? opts.clientCertFile, 'read the client certificate or key')
    }
  }
  if (opts.insecure) opts.logger?.warn('TLS certificate verification is disabled (--insecure): the server is not authenticated; prefer --ca-file')

  const agentFor = await proxyAgentResolver(ca, !opts.insecure)
  const base = opts.retryBaseMs ?? 500
  const max = opts.retryMaxMs ?? 8000
  const logger = opts.logger

  return got.extend({
    ...(opts.prefixUrl ? {prefixUrl: opts.prefixUrl} : {}),
    headers: {'user-agent': 'trustctl', ...opts.headers},
    ...(opts.unixSockets ? {enableUnixSockets: true} : {}),
    timeout: {request: opts.timeoutMs ?? 30_000},
    retry: {
      limit: opts.retries ?? 2,
      methods: [...IDEMPOTENT_METHODS],
      statusCodes: RETRY_STATUS,
      calculateDelay: ({attemptCount, computedValue}) => {
        if (computedValue === 0) return 0 // got decided not to retry (method, status, limit)
        const exp = Math.min(max, base * 2 ** (attemptCount - 1))
        return exp / 2 + Math.random() * (exp / 2)
      },
    },
    https: {
      ...(ca ? {certificateAuthority: ca} : {}),
      ...(cert && key ? {certificate: cert, key} : {}),
      ...(opts.skipHostnameCheck ? {checkServerIdentity: () => undefined} : {}),
      rejectUnauthorized: !opts.insecure,
    },
    ...(opts.keepAlive ? {agent: {http: new HttpAgentClass({keepAlive: true, maxSockets: 256}), https: new HttpsAgentClass({keepAlive: true, maxSockets: 256})}} : {}),
    hooks: {
      beforeRequest: [
        ((options) => {
          const url = options.url instanceof URL ? options.url : new URL(String(options.url))
          const agent = agentFor(url)
          if (agent) options.agent = (url.protocol === 'https:' ? {https: agent} : {http: agent}) as Agents
          logger?.debug(`${options.method} ${stripQuery(url)}`)
        }) satisfies BeforeRequestHook,
      ],
      beforeRetry: [
        (error: RequestError, retryCount: number) => {
          logger?.debug(`retry ${retryCount} of ${error.options.method} ${stripQuery(error.options.url as URL)}: ${error.code ?? error.message}`)
        },
      ],
    },
  })
}

function stripQuery(url: URL | string | undefined): string {
  if (!url) return ''
  const u = new URL(String(url))
  // Query strings may carry tokens; log only their presence.
  return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`
}

/** HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY (either case), as curl reads them, through proxy-from-env. */
async function proxyAgentResolver(ca: string | undefined, rejectUnauthorized: boolean): Promise<(url: URL) => HttpAgent | undefined> {
  const anyProxy = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'].some((k) => process.env[k])
  if (!anyProxy) return () => undefined
  const getProxyForUrl = await loadProxyFromEnv()
  const {HttpProxyAgent, HttpsProxyAgent} = await loadHpagent()
  const cache = new Map<string, HttpAgent>()
  return (url: URL) => {
    const proxy = getProxyForUrl(url.toString())
    if (!proxy) return undefined
    const key = `${url.protocol}${proxy}`
    let agent = cache.get(key)
    if (!agent) {
      agent =
        url.protocol === 'https:'
          ? (new HttpsProxyAgent({proxy, keepAlive: false, ...(ca ? {ca} : {}), rejectUnauthorized}) as unknown as HttpAgent)
          : (new HttpProxyAgent({proxy, keepAlive: false}) as unknown as HttpAgent)
      cache.set(key, agent)
    }
    return agent
  }
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
])

/**
 * Turns a transport failure into a NetworkError with a one-line message that names the URL.
 * Domain clients call this for errors they do not decode themselves (their HTTP error bodies).
 */
export function toNetworkError(err: unknown, what?: string): TrustctlError {
  if (isTrustctlError(err)) return err
  const e = err as RequestError & {response?: {statusCode: number; statusMessage?: string}}
  const url = e?.options?.url ? stripQuery(e.options.url as URL) : undefined
  const target = what ?? url ?? 'the server'
  const code = e?.code ?? ''
  const causeCode = (e?.cause as NodeJS.ErrnoException | undefined)?.code ?? ''
  const anyCode = (c: string) => code === c || causeCode === c
  if (e?.name === 'TimeoutError' || anyCode('ETIMEDOUT')) {
    return new NetworkError('TIMEOUT', `${target} did not answer in time`, {suggestions: ['check that the service is up, or raise --timeout'], cause: err})
  }
  for (const c of [code, causeCode]) {
    if (TLS_CODES.has(c)) {
      return new NetworkError('TLS_UNTRUSTED', `TLS certificate of ${target} is not trusted (${c})`, {
        suggestions: ["pass --ca-file with the server's CA certificate (PEM)", 'or --insecure to skip verification (not recommended)'],
        details: {tlsError: c},
        cause: err,
      })
    }
  }
  if (e?.response) {
    const status = e.response.statusCode
    return new NetworkError('HTTP_STATUS', `${target} answered HTTP ${status}${e.response.statusMessage ? ` ${e.response.statusMessage}` : ''}`, {
      details: {status},
      cause: err,
    })
  }
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host name not found',
    EAI_AGAIN: 'host name lookup failed',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    EPROTO: 'TLS protocol error (is it an http:// server?)',
  }
  const reason = reasons[causeCode] ?? reasons[code] ?? (e?.message ?? String(err)).split('\n')[0]
  return new NetworkError('UNREACHABLE', `cannot reach ${target}: ${reason}`, {
    suggestions: ['check the URL and that the service is running; behind a proxy set HTTPS_PROXY (and NO_PROXY for local hosts)'],
    cause: err,
  })
}

export interface FastGetResponse {
  statusCode: number
  body: string
}

/**
 * A lean GET for plain-HTTP hot paths that make thousands of small requests (a Keylime fleet scan):
 * node:http with a keep-alive pool, a timeout, one retry on a reset pooled socket, the same proxy
 * rules and debug log lines as createHttpClient(). got costs about 0.5 ms of CPU per request, which
 * made a 2,000-agent scan CPU-bound. Errors carry the codes toNetworkError() understands. HTTPS and
 * client certificates stay with createHttpClient().
 */
/** GET a plain-HTTP URL; `close` sends Connection: close (no further request to that host is coming). */
export type FastGetter = (url: string, opts?: {close?: boolean}) => Promise<FastGetResponse>

export async function createFastGetter(opts: {timeoutMs?: number; maxSockets?: number; maxBodyBytes?: number; logger?: Logger} = {}): Promise<FastGetter> {
  const pool = new HttpAgentClass({keepAlive: true, maxSockets: opts.maxSockets ?? 256})
  const agentFor = await proxyAgentResolver(undefined, true)
  const timeoutMs = opts.timeoutMs ?? 10_000
  // Thousands of peers, any of which may misbehave: one must not exhaust memory.
  const maxBodyBytes = opts.maxBodyBytes ?? 8 * 1024 * 1024
  const once = (url: URL, close: boolean) =>
    new Promise<FastGetResponse>((resolve, reject) => {
      // Every failure carries the URL, as got's errors do, for toNetworkError's message.
      const fail = (err: Error) => reject(Object.assign(err, {options: {url}}))
      const req = httpRequest(url, {agent: agentFor(url) ?? pool, headers: {'user-agent': 'trustctl', ...(close ? {connection: 'close'} : {})}}, (res) => {
        let body = ''
        let bytes = 0
        res.setEncoding('utf8')
        res.on('data', (d: string) => {
          bytes += Buffer.byteLength(d)
          if (bytes <= maxBodyBytes) body += d
          else {
            fail(Object.assign(new Error(`answer larger than ${maxBodyBytes} bytes, not read`), {code: 'ERR_BODY_TOO_LARGE'}))
            req.destroy()
          }
        })
        res.on('end', () => resolve({statusCode: res.statusCode ?? 0, body}))
        res.on('error', fail)
      })
      // A total deadline, not an idle one: a peer trickling bytes cannot hold the request open.
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`timeout after ${timeoutMs} ms`), {name: 'TimeoutError', code: 'ETIMEDOUT'})), timeoutMs)
      req.on('close', () => clearTimeout(timer))
      req.on('error', fail)
      req.end()
    })
  return async (href, {close = false} = {}) => {
    const url = new URL(href)
    if (url.protocol !== 'http:') throw new TypeError(`createFastGetter: plain HTTP only, got ${url.protocol}`)
    opts.logger?.debug(`GET ${stripQuery(url)}`)
    try {
      return await once(url, close)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ECONNRESET' && code !== 'EPIPE') throw err
      // A pooled keep-alive socket the peer had just closed: one more try on a fresh one.
      opts.logger?.debug(`retry 1 of GET ${stripQuery(url)}: ${code}`)
      return once(url, close)
    }
  }
}
