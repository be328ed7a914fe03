// Types of the Keylime emulator (server.js) for TypeScript tests.

/** API versions the emulator knows: '1.0' (servers only) and '2.0' … '2.6'. */
export type ApiVersion = string

export interface AgentSpec {
  /** The agent's UUID at the verifier and the registrar; default a random UUID. */
  uuid?: string
  /** Versions this agent serves; default KeylimeOptions.agentVersions. */
  versions?: ApiVersion[]
  /** Its operational_state at the verifier (spec §3.3), 0..10; default 3 (Get Quote). */
  state?: number
  /** Serve HTTPS requiring a client certificate from the test CA; default KeylimeOptions.agentMtls. */
  mtls?: boolean
  /** Give the agent a port nobody listens on (connections are refused). */
  unreachable?: boolean
  /** The UUID the agent itself reports in /agent/info (spoofing, duplicates); default uuid. */
  reportUuid?: string
  /** Known to the registrar; default true. */
  registered?: boolean
  /** Added to the verifier; default true. */
  inVerifier?: boolean
}

export interface KeylimeOptions {
  /** A count of default agents or their specs; default 1. */
  agents?: number | AgentSpec[]
  /** Default ['2.0', '2.1', '2.2', '2.3']. A list reaching 2.5+ emulates Keylime 7.14+ (per-route authorization). */
  verifierVersions?: ApiVersion[]
  /** Default ['2.0', '2.1', '2.2', '2.3']. Up to 2.2 emulates the ≤7.11 registrar, 2.3+ the keylime/web one, 2.5+ adds per-route authorization. */
  registrarVersions?: ApiVersion[]
  /** Default versions of every agent; default ['2.0', '2.1', '2.2', '2.3']. */
  agentVersions?: ApiVersion[]
  /** Default for AgentSpec.mtls; default false (plain HTTP, the SPIRE plugin's mode). */
  agentMtls?: boolean
}

export interface Endpoint {
  /** e.g. https://127.0.0.1:40123 */
  url: string
  host: string
  port: number
}

export interface EmulatedAgent extends Endpoint {
  uuid: string
  /** The agent's self-signed certificate (mTLS agents only): what clients pin, also the registrar's mtls_cert. */
  certPem?: string
  /** Current operational_state at the verifier. */
  readonly state: number
  /** Changes the operational_state (0..10) the verifier reports from now on. */
  setState(n: number): void
  /** Closes the agent's port: it becomes unreachable but stays in the verifier and registrar. */
  stop(): Promise<void>
}

export interface KeylimeFaults {
  /** Delay before every answer of every service, in ms. */
  latencyMs: number
  /** The next N verifier requests answer 500 (tornado's error envelope). */
  verifierErrors: number
  /** The next N registrar requests (either port) answer 500. */
  registrarErrors: number
  /** The next N agent requests (any agent) answer 500 ("Unable to retrieve quote" on quotes). */
  agentErrors: number
}

export interface LoggedRequest {
  /** When the answer was written (Date.now()). */
  at: number
  service: 'agent' | 'verifier' | 'registrar'
  method: string
  /** As requested, without the query string. */
  path: string
  query: Record<string, string>
  status: number
  /** The agent's configured UUID (agent requests only). */
  uuid?: string
}

export interface PemPair {
  certPem: string
  keyPem: string
}

export interface Keylime {
  verifier: Endpoint
  /** The HTTPS port, plus the plain-HTTP port (registration and /version). */
  registrar: Endpoint & {httpUrl: string; httpPort: number}
  /** Live list: addAgents() appends to it. */
  agents: EmulatedAgent[]
  /** The CA of the verifier, registrar and client certificates (Keylime's cv_ca/cacert.crt). */
  ca: {certPem: string}
  /** Certificate "client" signed by the CA: accepted by the verifier, the registrar and mTLS agents. */
  client: PemPair
  /** Certificate "client" signed by an unrelated CA: refused. */
  otherClient: PemPair
  /** Mutable at run time. */
  faults: KeylimeFaults
  /** Every request answered so far, in order (TLS-refused connections never get here). */
  requests: LoggedRequest[]
  addAgents(specs: AgentSpec[]): Promise<EmulatedAgent[]>
  stop(): Promise<void>
}

export function startKeylime(opts?: KeylimeOptions): Promise<Keylime>
