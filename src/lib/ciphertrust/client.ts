import type {Got} from 'got'

import {isTrustctlError, UsageError} from '../core/errors.js'
import {createHttpClient, toNetworkError} from '../core/http.js'
import type {Logger} from '../core/log.js'
import {registerSecret} from '../core/log.js'
import {CtmError, ctmErrorFor} from './errors.js'

export interface CtmConnection {
  url: string
  username?: string
  password?: string
  refreshToken?: string
  domain?: string
  authDomain?: string
  caFile?: string
  insecure?: boolean
  timeoutMs?: number
  logger?: Logger
  /** Page size for list requests (CM's default of 10 truncates silently). */
  pageSize?: number
}

export interface TokenResponse {
  jwt: string
  duration: number
  token_type: string
  refresh_token?: string
  refresh_token_id?: string
  client_id?: string
}

export interface ListEnvelope<T> {
  skip: number
  limit: number
  total: number
  resources: T[] | null
  messages?: string[]
}

/** Renew the JWT when less than this is left (CM issues 300 s tokens). */
const RENEW_BEFORE_MS = 30_000

/**
 * A CipherTrust Manager REST client: logs in with a password or a refresh token, keeps the JWT in
 * memory and renews it before it expires, re-logs in exactly once after a 401 for an expired token,
 * pages every list to the end, and maps CM's error bodies to CtmError. GETs are retried on 5xx and
 * network errors by the shared HTTP client; POSTs never are.
 */
export class CtmClient {
  private http!: Got
  private jwt: string | undefined
  private jwtExpiresAt = 0
  readonly base: string

  private constructor(private readonly conn: CtmConnection) {
    this.base = conn.url.replace(/\/+$/, '')
    registerSecret(conn.password)
    registerSecret(conn.refreshToken)
  }

  static async connect(conn: CtmConnection): Promise<CtmClient> {
    const c = new CtmClient(conn)
    c.http = await createHttpClient({caFile: conn.caFile, insecure: conn.insecure, timeoutMs: conn.timeoutMs, logger: conn.logger, retries: 3, retryBaseMs: 200})
    return c
  }

  /** POST /api/v1/auth/tokens with the password grant (or the refresh grant when only a refresh token is known). */
  async login(extra: Record<string, unknown> = {}): Promise<TokenResponse> {
    const body: Record<string, unknown> = this.conn.refreshToken && !this.conn.password
      ? {grant_type: 'refresh_token', refresh_token: this.conn.refreshToken}
      : {grant_type: 'password', username: this.requireUsername(), password: this.requirePassword()}
    if (this.conn.domain) body.domain = this.conn.domain
    if (this.conn.authDomain) body.auth_domain = this.conn.authDomain
    const res = await this.send('POST', '/api/v1/auth/tokens', {json: {...body, ...extra}}, 'login', false)
    const token = res.body as TokenResponse
    if (typeof token?.jwt !== 'string' || !(token.duration > 0)) throw new CtmError('INVALID_RESPONSE', 'login: CipherTrust Manager returned no usable token (jwt, duration)')
    registerSecret(token.jwt)
    registerSecret(token.refresh_token)
    this.jwt = token.jwt
    this.jwtExpiresAt = Date.now() + token.duration * 1000
    return token
  }

  /** Issues a token for another user (what `ksctl tokens create` does): does not change this client's session. */
  async createToken(username: string, password: string, opts: {labels?: string[]; refreshTokenLifetimeMin?: number} = {}): Promise<TokenResponse> {
    registerSecret(password)
    const body: Record<string, unknown> = {grant_type: 'password', username, password}
    if (this.conn.domain) body.domain = this.conn.domain
    if (this.conn.authDomain) body.auth_domain = this.conn.authDomain
    if (opts.labels) body.labels = opts.labels
    if (opts.refreshTokenLifetimeMin) body.refresh_token_lifetime = opts.refreshTokenLifetimeMin
    const res = await this.send('POST', '/api/v1/auth/tokens', {json: body}, `token for ${username}`, false)
    const token = res.body as TokenResponse
    if (typeof token?.jwt !== 'string') throw new CtmError('INVALID_RESPONSE', `token for ${username}: CipherTrust Manager returned no jwt`)
    registerSecret(token.jwt)
    registerSecret(token.refresh_token)
    return token
  }

  async get<T>(path: string, what: string, searchParams?: Record<string, string | number>): Promise<T> {
    return (await this.send('GET', path, {searchParams}, what)).body as T
  }

  async post<T>(path: string, what: string, opts: {json?: unknown; body?: Buffer; searchParams?: Record<string, string | number>; headers?: Record<string, string>} = {}): Promise<T> {
    return (await this.send('POST', path, opts, what)).body as T
  }

  async patch<T>(path: string, what: string, json: unknown): Promise<T> {
    return (await this.send('PATCH', path, {json}, what)).body as T
  }

  async delete(path: string, what: string, searchParams?: Record<string, string | number>): Promise<void> {
    await this.send('DELETE', path, {searchParams}, what)
  }

  /** Every item of a list endpoint, page by page (skip/limit) until total is reached or a page is short. */
  async list<T>(path: string, what: string, query: Record<string, string | number> = {}): Promise<T[]> {
    const limit = this.conn.pageSize ?? 500
    const out: T[] = []
    for (let skip = 0; ; ) {
      const page = await this.get<ListEnvelope<T>>(path, what, {...query, skip, limit})
      const items = page.resources ?? []
      out.push(...items)
      skip += items.length
      if (items.length === 0 || items.length < limit || (typeof page.total === 'number' && skip >= page.total)) return out
    }
  }

  private requireUsername(): string {
    if (!this.conn.username) throw new UsageError('MISSING_FLAG', 'no CipherTrust Manager user name', {suggestions: ['pass --username, set TRUSTCTL_CTM_USERNAME, or KSCTL_USERNAME in ~/.ksctl/config.yaml']})
    return this.conn.username
  }

  private requirePassword(): string {
    if (!this.conn.password) throw new UsageError('MISSING_FLAG', 'no CipherTrust Manager password', {suggestions: ['pass --password-file, set TRUSTCTL_CTM_PASSWORD, or run "trustctl ctm login" once']})
    return this.conn.password
  }

  private async ensureToken(): Promise<void> {
    if (!this.jwt || Date.now() > this.jwtExpiresAt - RENEW_BEFORE_MS) await this.login()
  }

  private async send(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    opts: {json?: unknown; body?: Buffer; searchParams?: Record<string, string | number>; headers?: Record<string, string>},
    what: string,
    auth = true,
  ): Promise<{status: number; body: unknown}> {
    for (let attempt = 0; ; attempt++) {
      if (auth) await this.ensureToken()
      let res
      try {
        res = await this.http(`${this.base}${path}`, {
          method,
          throwHttpErrors: false,
          ...(opts.json !== undefined ? {json: opts.json} : {}),
          ...(opts.body !== undefined ? {body: opts.body} : {}),
          ...(opts.searchParams ? {searchParams: opts.searchParams} : {}),
          headers: {...(auth ? {authorization: `Bearer ${this.jwt}`} : {}), accept: 'application/json', ...opts.headers},
        })
      } catch (err) {
        const ne = toNetworkError(err, `CipherTrust Manager at ${this.base}`)
        if (isTrustctlError(ne) && ne.code === 'TLS_UNTRUSTED') {
          throw new CtmError('TLS_UNTRUSTED', `${ne.message}`, {suggestions: ["pass --ca-file with the appliance's CA certificate (PEM), or --insecure to skip verification (not recommended)"]})
        }
        throw new CtmError('UNAVAILABLE', `${what}: ${ne.message}`, {suggestions: ne.suggestions})
      }
      const isJson = String(res.headers['content-type'] ?? '').startsWith('application/json')
      let body: unknown = res.body
      if (isJson && typeof res.body === 'string' && res.body !== '') {
        try {
          body = JSON.parse(res.body)
        } catch {
          throw new CtmError('INVALID_RESPONSE', `${what}: CipherTrust Manager sent invalid JSON`)
        }
      }
      // A JWT that expired between our check and the server's: log in again, once.
      if (res.statusCode === 401 && auth && attempt === 0) {
        this.conn.logger?.debug(`${what}: 401, logging in again`)
        this.jwt = undefined
        continue
      }
      if (res.statusCode >= 400) throw ctmErrorFor(res.statusCode, body, what)
      return {status: res.statusCode, body}
    }
  }
}
