import type {Got} from 'got'

import {isTrustctlError} from '../core/errors.js'
import {createFastGetter, createHttpClient, toNetworkError, type FastGetter} from '../core/http.js'
import type {Logger} from '../core/log.js'
import {KeylimeError} from './errors.js'
import {negotiate} from './version.js'

export type Service = 'agent' | 'verifier' | 'registrar'

export interface Endpoint {
  host: string
  port: number
}

export interface KeylimeOptions {
  agent: Endpoint
  verifier: Endpoint
  registrar: Endpoint
  /** Client certificate for the verifier and registrar (and agents with mTLS). */
  certFile?: string
  keyFile?: string
  caFile?: string
  /** Agents serve HTTPS with mTLS (off in the SPIRE plugin's mode). */
  agentMtls?: boolean
  apiVersion?: string
  timeoutMs?: number
  logger?: Logger
}

export interface RequestOptions {
  ep?: Endpoint
  query?: Record<string, string>
  what?: string
  /** The last request to this endpoint (a fleet scan visits each agent once): the connection is closed after it rather than pooled. */
  last?: boolean
}

interface Envelope<T> {
  code?: number
  status?: string
  results?: T
  errors?: Array<{status?: string; title?: string; detail?: string}>
}

/**
 * Talks to Keylime agents, the verifier and the registrar: version discovery per service, the v2
 * envelope and the newer {errors:[...]} shape, and failures mapped to exit codes.
 */
export class KeylimeClient {
  private constructor(
    readonly opts: KeylimeOptions,
    private readonly plainGet: FastGetter,
  ) {}

  private tlsClient?: Promise<Got>

  private versions = new Map<string, string>()

  static async create(opts: KeylimeOptions): Promise<KeylimeClient> {
    // Plain-HTTP agents (the SPIRE plugin's mode) are the hot path of a fleet scan: a lean getter.
    return new KeylimeClient(opts, await createFastGetter({timeoutMs: opts.timeoutMs ?? 10_000, logger: opts.logger}))
  }

  /**
   * The HTTPS client (verifier, registrar, mTLS agents), made on first use: loading it is not on a plain agent's path.
   * Host names are not checked against Keylime's own CA (its certificates are named "server"); with the system CAs they are.
   */
  private tls(): Promise<Got> {
    this.tlsClient ??= createHttpClient({timeoutMs: this.opts.timeoutMs ?? 10_000, retries: 1, retryBaseMs: 100, logger: this.opts.logger, keepAlive: true, caFile: this.opts.caFile, clientCertFile: this.opts.certFile, clientKeyFile: this.opts.keyFile, skipHostnameCheck: Boolean(this.opts.caFile)})
    return this.tlsClient
  }

  base(service: Service, ep?: Endpoint): string {
    const e = ep ?? this.opts[service]
    const tls = service !== 'agent' || this.opts.agentMtls
    return `${tls ? 'https' : 'http'}://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`
  }

  /** GET /version, then the highest common version (cached per endpoint). */
  async version(service: Service, ep?: Endpoint): Promise<string> {
    const key = this.base(service, ep)
    const hit = this.versions.get(key)
    if (hit) return hit
    let v: string
    if (this.opts.apiVersion) v = negotiate(service, [], this.opts.apiVersion)
    else {
      const r = await this.request<{supported_versions?: string[]; supported_version?: string; current_version?: string}>(service, '/version', {ep})
      const list = (Array.isArray(r.supported_versions) ? r.supported_versions : [r.supported_version ?? r.current_version]).filter((x): x is string => typeof x === 'string')
      v = negotiate(`the ${service} at ${key}`, list)
    }
    this.versions.set(key, v)
    return v
  }

  /** A versioned GET: /v<version><path>. */
  async get<T>(service: Service, path: string, opts: RequestOptions = {}): Promise<T> {
    const v = await this.version(service, opts.ep)
    return this.request<T>(service, `/v${v}${path}`, opts)
  }

  async request<T>(service: Service, path: string, {ep, query, what, last}: RequestOptions = {}): Promise<T> {
    const base = this.base(service, ep)
    const label = what ?? `the ${service} at ${base}`
    let res: {statusCode: number; body: string}
    const https = base.startsWith('https') ? await this.tls() : undefined // a bad --ca-file etc. fails here, not as "unreachable"
    try {
      if (https) {
        res = await https(`${base}${path}`, {throwHttpErrors: false, ...(query ? {searchParams: query} : {}), ...(last ? {headers: {connection: 'close'}} : {})})
      } else {
        const qs = query ? `?${new URLSearchParams(query).toString()}` : ''
        res = await this.plainGet(`${base}${path}${qs}`, {close: last})
      }
    } catch (err) {
      throw this.transportError(err, service, label)
    }
    let body: Envelope<T> | undefined
    try {
      body = JSON.parse(res.body) as Envelope<T>
    } catch {
      body = undefined
    }
    if (res.statusCode >= 400) throw this.statusError(res.statusCode, body, service, label, path)
    if (!body || typeof body !== 'object' || body.results === null || typeof body.results !== 'object') throw new KeylimeError('BAD_RESPONSE', `${label} answered without the Keylime envelope {code, status, results}`)
    return body.results
  }

  private transportError(err: unknown, service: Service, label: string): KeylimeError {
    const msg = String((err as Error)?.message ?? err)
    const code = (err as {code?: string}).code ?? ''
    // A TLS server that requires a client certificate aborts with an alert; under TLS 1.3 the client
    // often sees only a reset right after the handshake. The verifier and registrar require one.
    const alert = /certificate required|alert bad certificate|alert unknown ca|alert handshake failure|alert certificate unknown/i.test(msg)
    if (alert || (code === 'ECONNRESET' && service !== 'agent')) {
      const what = alert ? 'refused the TLS client certificate' : 'closed the connection during TLS: the client certificate was probably refused'
      return new KeylimeError('CLIENT_CERT_REFUSED', `${label} ${what}${this.opts.certFile ? '' : ' (none was given)'}`, {
        suggestions: ['pass --cert and --key with a client certificate signed by the verifier CA (Keylime: /var/lib/keylime/cv_ca/client-cert.crt and client-private.pem), and --ca-file cacert.crt'],
      })
    }
    const ne = toNetworkError(err, label)
    if (isTrustctlError(ne) && ne.code === 'TLS_UNTRUSTED') {
      return new KeylimeError('UNREACHABLE', `${ne.message}`, {suggestions: ["pass --ca-file with Keylime's cacert.crt (/var/lib/keylime/cv_ca/cacert.crt)"]})
    }
    return new KeylimeError('UNREACHABLE', ne.message, {suggestions: ne.suggestions})
  }

  private statusError(status: number, body: Envelope<unknown> | undefined, service: Service, label: string, path: string): KeylimeError {
    const reason = body?.errors?.[0]?.detail ?? body?.errors?.[0]?.title ?? body?.status ?? `HTTP ${status}`
    if (status === 401 || status === 403) {
      return new KeylimeError('CLIENT_CERT_REFUSED', `${label} refused access (${status}: ${reason})`, {suggestions: ['pass --cert and --key with a client certificate signed by the verifier CA']})
    }
    if (status === 404) return new KeylimeError('NOT_FOUND', `${label}: ${reason} (${path})`)
    if (status === 400 || status === 405) return new KeylimeError('REJECTED', `${label} rejected ${path}: ${reason}`)
    return new KeylimeError('UNREACHABLE', `${label} answered ${status}: ${reason}`)
  }
}

/** Verifier and registrar lists: verifier rows are one-element lists ([["id"]]), registrar a flat list. */
export function unwrapUuids(results: {uuids?: unknown}): string[] {
  const list = Array.isArray(results?.uuids) ? results.uuids : []
  return list.map((u) => (Array.isArray(u) ? String(u[0]) : String(u)))
}
