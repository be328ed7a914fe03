// Types of the CipherTrust Manager emulator (server.js) for TypeScript tests.

export interface EmulatorUser {
  username: string
  password: string
  email?: string
  name?: string
  /** Groups the user joins; default ['admin'] (built-ins: admin, Key Admins, Key Users, User Admins). */
  groups?: string[]
  [field: string]: unknown
}

export interface EmulatorOptions {
  /** Serve HTTPS with a certificate for 127.0.0.1/localhost signed by a fresh CA (see caPem). */
  https?: boolean
  /** Default 0: a free port. */
  port?: number
  /** Default '127.0.0.1'. */
  host?: string
  /** Default [{username: 'admin', password: 'admin'}]; seeded users skip the password policy. */
  users?: EmulatorUser[]
  /** JWT lifetime (`duration`) in seconds; default 300 like CM. */
  tokenLifetimeSec?: number
  /** Page size of list endpoints without ?limit; default 10 like CM. */
  pageDefault?: number
}

export interface EmulatorFaults {
  /** Delay before every answer, in ms. */
  latencyMs: number
  /** The next N requests (of fail5xxMethods) answer 503 with a CM JSON error body. */
  fail5xx: number
  /** Methods the 5xx burst applies to; default all. */
  fail5xxMethods: string[]
  /** JWTs issued from now on stop working after N seconds although duration/exp promise more; null = off. */
  expireTokensAfterSec: number | null
  /** The next N create requests (POST users, groups, policies, attachments, keys2, secrets) answer 409. */
  force409: number
}

export interface LoggedRequest {
  method: string
  /** The path as requested, without the query string (a trailing slash is kept). */
  path: string
  query: Record<string, string>
  status: number
}

/** A key object as the API returns it (camelCase; see spec §6.2). */
export interface EmulatorKey {
  id: string
  uri: string
  name: string
  version: number
  algorithm: string
  size: number
  curveid?: string
  usageMask: number
  state: string
  labels: Record<string, string>
  publickey?: string
  [field: string]: unknown
}

/** Internal records; objects hold secrets (passwords, key material) the API never returns. */
export interface EmulatorState {
  users: Map<string, Record<string, any>>
  groups: Map<string, Record<string, any> & {members: Set<string>}>
  refreshTokens: Map<string, Record<string, any>>
  accessTokens: Map<string, {expiresAt: number}>
  policies: Map<string, Record<string, any>>
  attachments: Map<string, Record<string, any>>
  keys: Map<string, EmulatorKey & {material?: unknown}>
  keyNames: Map<string, Array<EmulatorKey & {material?: unknown}>>
  secrets: Map<string, Record<string, any>>
}

export interface Emulator {
  /** e.g. http://127.0.0.1:40123 */
  url: string
  /** PEM of the CA that signed the server certificate (HTTPS only). */
  caPem: string | undefined
  state: EmulatorState
  /** Mutable at run time. */
  faults: EmulatorFaults
  /** Every request answered so far, in order. */
  requests: LoggedRequest[]
  /** Every JWT issued so far answers 401 "Token is expired" from now on. */
  expireAllTokens(): void
  /**
   * Creates n keys directly in the state (fast: no HTTP), validated like POST /api/v1/vault/keys2.
   * make(i) returns the create body; default {name: `seed-key-${i}`} (an AES-256 key).
   */
  seedKeys(n: number, make?: (i: number) => Record<string, unknown>): EmulatorKey[]
  stop(): Promise<void>
}

export function startEmulator(opts?: EmulatorOptions): Promise<Emulator>
