// The Keylime emulator over real HTTP/HTTPS: what clients rely on (spec
// /work/shared/specs/keylime-api.md) and what it must reject the way Keylime does.
import {spawn} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {request as httpRequest, type IncomingHttpHeaders} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {connect} from 'node:net'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {stdoutUntil} from '../../helpers/service.js'
import {startKeylime, type Keylime, type KeylimeOptions} from './server.js'

const SERVER = join(dirname(fileURLToPath(import.meta.url)), 'server.js')

interface Reply {
  status: number
  type: string
  headers: IncomingHttpHeaders
  text: string
  body: any
}

interface CallOptions {
  /** Client certificate to present on HTTPS: the test CA's (default), another CA's, or none. */
  cred?: 'client' | 'other' | 'none'
  /** Trust anchor; default the test CA. */
  ca?: string
  method?: string
  /** Keep Node's host-name check (Keylime's certificates are named "server": it must fail). */
  checkHost?: boolean
}

function call(kl: Keylime, url: string, opts: CallOptions = {}): Promise<Reply> {
  const cred = {client: kl.client, other: kl.otherClient, none: undefined}[opts.cred ?? 'client']
  const tls = {ca: opts.ca ?? kl.ca.certPem, cert: cred?.certPem, key: cred?.keyPem, ...(opts.checkHost ? {} : {checkServerIdentity: () => undefined})}
  const request = url.startsWith('https:') ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(url, {method: opts.method ?? 'GET', agent: false, ...(url.startsWith('https:') ? tls : {})}, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => {
        const type = res.headers['content-type'] ?? ''
        resolve({status: res.statusCode ?? 0, type, headers: res.headers, text, body: /json/.test(type) ? JSON.parse(text) : undefined})
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** The v2 envelope (spec §6.1): code mirrors the HTTP status, errors carry results {}. */
function expectEnvelope(r: Reply, status: number, statusText?: string | RegExp) {
  expect(r.status, r.text).toBe(status)
  expect(r.type).toMatch(/^(application|text)\/json/)
  expect(Object.keys(r.body).sort()).toEqual(['code', 'results', 'status'])
  expect(r.body.code).toBe(status)
  if (status >= 400) expect(r.body.results).toEqual({})
  if (statusText !== undefined) expect(r.body.status).toEqual(typeof statusText === 'string' ? statusText : expect.stringMatching(statusText))
}

const results = (r: Reply) => {
  expectEnvelope(r, 200, 'Success')
  return r.body.results
}

const started: Keylime[] = []
async function keylime(opts?: KeylimeOptions): Promise<Keylime> {
  const kl = await startKeylime(opts)
  started.push(kl)
  return kl
}
afterAll(async () => {
  await Promise.all(started.map((kl) => kl.stop()))
})

const U = {
  a: '11111111-1111-4111-8111-111111111111',
  old: '22222222-2222-4222-8222-222222222222',
  b: '33333333-3333-4333-8333-333333333333',
  spoof: '44444444-4444-4444-8444-444444444444',
  hidden: '55555555-5555-4555-8555-555555555555',
  unknown: '99999999-9999-4999-8999-999999999999',
}

let kl: Keylime
const agent = (uuid: string) => kl.agents.find((a) => a.uuid === uuid)!
const v = (path: string) => `${kl.verifier.url}${path}`
const r = (path: string) => `${kl.registrar.url}${path}`

beforeAll(async () => {
  kl = await keylime({
    agents: [
      {uuid: U.a},
      {uuid: U.old, versions: ['2.1']},
      {uuid: U.b, state: 4},
      {uuid: U.spoof, reportUuid: U.a, registered: false, inVerifier: false},
      {uuid: U.hidden, versions: ['2.2', '2.5'], inVerifier: false},
    ],
  })
})

async function quote(uuid: string, nonce: string, version = '2.2'): Promise<string> {
  return results(await call(kl, `${agent(uuid).url}/v${version}/quotes/identity?nonce=${nonce}`)).quote
}

function verifyUrl(params: Record<string, string>, version = '2.2') {
  return v(`/v${version}/verify/identity?${new URLSearchParams(params)}`)
}

describe('version discovery (spec §1.3)', () => {
  it('an agent serving 2.3+ lists supported_versions; an older one only supported_version', async () => {
    expect(results(await call(kl, `${agent(U.a).url}/version`))).toEqual({supported_version: '2.3', supported_versions: ['2.0', '2.1', '2.2', '2.3']})
    expect(results(await call(kl, `${agent(U.old).url}/version`))).toEqual({supported_version: '2.1'})
  })

  it('verifier and registrar answer current_version and supported_versions', async () => {
    const want = {current_version: '2.3', supported_versions: ['2.0', '2.1', '2.2', '2.3']}
    expect(results(await call(kl, v('/version')))).toEqual(want)
    expect(results(await call(kl, r('/version')))).toEqual(want)
    expect(results(await call(kl, `${kl.registrar.httpUrl}/version`))).toEqual(want)
    // The tornado route matches /versions too, but the handler then finds no "version" key.
    expectEnvelope(await call(kl, v('/versions')), 400, 'URI not supported')
  })

  it('a ≤7.11 registrar (2.0–2.2) answers /version only on its plain-HTTP port', async () => {
    const old = await keylime({agents: 0, registrarVersions: ['1.0', '2.0', '2.1', '2.2']})
    expectEnvelope(await call(old, `${old.registrar.url}/version`), 400, 'API Version not supported')
    expect(results(await call(old, `${old.registrar.httpUrl}/version`))).toEqual({current_version: '2.2', supported_versions: ['1.0', '2.0', '2.1', '2.2']})
    expectEnvelope(await call(old, `${old.registrar.httpUrl}/v2.2/agents/`), 400, 'URI not supported')
  })

  it('verifier: /v2 is the latest 2.x, an unserved version is 400, and /agents without the slash is 405', async () => {
    expect(results(await call(kl, v(`/v2/agents/${U.a}`))).operational_state).toBe(3)
    expectEnvelope(await call(kl, v(`/v2.9/agents/${U.a}`)), 400, 'API Version not supported')
    expectEnvelope(await call(kl, v(`/v1.0/agents/${U.a}`)), 400, 'API Version not supported')
    expectEnvelope(await call(kl, v('/v2.2/agents')), 405, 'Not Implemented: Use /agents/ interface instead')
    expectEnvelope(await call(kl, v('/')), 405, 'Not Implemented: Use /agents/ interface instead')
    // Methods no keylime handler defines get tornado's own 405 (write_error: text/json).
    const patch = await call(kl, v(`/v2.2/agents/${U.a}`), {method: 'PATCH'})
    expectEnvelope(patch, 405, 'Method Not Allowed')
    expect(patch.type).toBe('text/json')
  })

  it('agent: exact /vX.Y scopes only (rust actix routes)', async () => {
    const url = agent(U.a).url
    expectEnvelope(await call(kl, `${url}/v2.9/quotes/identity?nonce=abc`), 400, 'API version not supported: v2.9')
    expectEnvelope(await call(kl, `${url}/v2/quotes/identity?nonce=abc`), 400, 'Not Implemented: Use /version or /v2.3/ interfaces')
    expectEnvelope(await call(kl, `${url}/v2.2/quotes/nothing`), 400, /^URI not supported, only \/identity and \/integrity/)
    expectEnvelope(await call(kl, `${url}/v2.2/nothing`), 400, 'Not Implemented: Use /agent, /keys, or /quotes interfaces')
    const del = await call(kl, `${url}/v2.2/quotes/nothing`, {method: 'DELETE'})
    expectEnvelope(del, 405, 'Method is not supported in /quotes/ interface')
    expect(del.headers.allow).toBe('GET')
    expect((await call(kl, `${url}/v2.2/quotes/identity?nonce=abc`, {method: 'POST'})).status).toBe(405)
  })
})

describe('agent info (API 2.2+, spec §2.3)', () => {
  it('reports the UUID, algorithms and a numeric AK handle', async () => {
    const info = results(await call(kl, `${agent(U.a).url}/v2.2/agent/info`))
    expect(info).toEqual({agent_uuid: U.a, tpm_hash_alg: 'sha256', tpm_enc_alg: 'ecc', tpm_sign_alg: 'ecdsa', ak_handle: expect.any(Number)})
    expect(Object.keys(info)).not.toContain('ek_handle')
  })

  it('enc_alg carries the key size under 2.5', async () => {
    expect(results(await call(kl, `${agent(U.hidden).url}/v2.5/agent/info`)).tpm_enc_alg).toBe('ecc256')
    expect(results(await call(kl, `${agent(U.hidden).url}/v2.2/agent/info`)).tpm_enc_alg).toBe('ecc')
  })

  it('is absent on a 2.1-only agent: not mounted under /v2.1, and /v2.2 is not served', async () => {
    const url = agent(U.old).url
    expectEnvelope(await call(kl, `${url}/v2.1/agent/info`), 400, 'Not Implemented: Use /agent, /keys, or /quotes interfaces')
    expectEnvelope(await call(kl, `${url}/v2.2/agent/info`), 400, 'API version not supported: v2.2')
    expect(results(await call(kl, `${url}/v2.1/quotes/identity?nonce=abc`)).quote).toMatch(/^r/)
  })

  it('reports reportUuid, not its own UUID, when told to (spoofing, duplicates)', async () => {
    expect(results(await call(kl, `${agent(U.spoof).url}/v2.2/agent/info`)).agent_uuid).toBe(U.a)
  })
})

describe('identity quotes: nonce rules (spec §2.4)', () => {
  const quoteUrl = (query: string) => `${agent(U.a).url}/v2.2/quotes/identity${query}`

  it('accepts 1..64 alphanumeric characters and answers quote, algorithms and the NK', async () => {
    for (const nonce of ['a', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 'x'.repeat(64)]) {
      const q = results(await call(kl, quoteUrl(`?nonce=${nonce}`)))
      expect(q).toEqual({quote: expect.stringMatching(/^r[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/), hash_alg: 'sha256', enc_alg: 'ecc', sign_alg: 'ecdsa', pubkey: expect.stringMatching(/^-----BEGIN PUBLIC KEY-----/)})
    }
  })

  it('rejects non-alphanumeric nonces with the rust agent text (a "+" decodes to a space)', async () => {
    expectEnvelope(await call(kl, quoteUrl('?nonce=abc+def')), 400, 'Parameters should be strictly alphanumeric: abc def')
    expectEnvelope(await call(kl, quoteUrl('?nonce=abc%2Fdef')), 400, 'Parameters should be strictly alphanumeric: abc/def')
    expectEnvelope(await call(kl, quoteUrl('?nonce=abc-def')), 400, 'Parameters should be strictly alphanumeric: abc-def')
  })

  it('limits the nonce to 64 bytes (UTF-8), Unicode letters being alphanumeric to Rust', async () => {
    expectEnvelope(await call(kl, quoteUrl(`?nonce=${'x'.repeat(65)}`)), 400, `Nonce is too long (max size 64): ${'x'.repeat(65)}`)
    expect((await call(kl, quoteUrl(`?nonce=${encodeURIComponent('é'.repeat(32))}`))).status).toBe(200)
    expectEnvelope(await call(kl, quoteUrl(`?nonce=${encodeURIComponent('é'.repeat(33))}`)), 400, /^Nonce is too long/)
  })

  it('a missing or repeated nonce is a query deserialize error; an empty one passes (rust)', async () => {
    expectEnvelope(await call(kl, quoteUrl('')), 400, 'Query deserialize error: missing field `nonce`')
    expectEnvelope(await call(kl, quoteUrl('?nonce=a&nonce=b')), 400, 'Query deserialize error: duplicate field `nonce`')
    expect((await call(kl, quoteUrl('?nonce='))).status).toBe(200)
  })
})

describe('verify/identity (spec §3.5)', () => {
  it('valid: a quote from the agent for the nonce, checked with its AK', async () => {
    const nonce = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
    const q = await quote(U.a, nonce)
    expect(results(await call(kl, verifyUrl({agent_uuid: U.a, hash_alg: 'sha256', nonce, quote: q})))).toEqual({valid: 1})
    // Any version prefix the verifier serves reaches the same handler.
    expect(results(await call(kl, verifyUrl({agent_uuid: U.a, hash_alg: 'sha256', nonce, quote: q}, '2.0'))).valid).toBe(1)
  })

  it('invalid: another nonce, another agent, a tampered quote, an unknown hash', async () => {
    const q = await quote(U.a, 'nonce1')
    const check = async (params: Record<string, string>, reason: RegExp) => {
      const res = results(await call(kl, verifyUrl({agent_uuid: U.a, hash_alg: 'sha256', nonce: 'nonce1', quote: q, ...params})))
      expect(res).toEqual({valid: 0, reason: expect.stringMatching(reason)})
    }
    await check({nonce: 'nonce2'}, /^\{"message": "Quote data validation", "error": ".*nonce.*"\}$/)
    await check({agent_uuid: U.b}, /signature/)
    await check({hash_alg: 'md5'}, /^\{"message": "TPM Quote is using an unrecognized hash algorithm: md5", "data": "md5"\}$/)
    await check({hash_alg: 'sha1'}, /sha1 bank/)
    const [attest, sig, pcrs] = q.slice(1).split(':') as [string, string, string]
    const flip = (b64: string, at: number) => {
      const buf = Buffer.from(b64, 'base64')
      buf.writeUInt8(buf.readUInt8(at) ^ 1, at)
      return buf.toString('base64')
    }
    await check({quote: `r${flip(attest, 60)}:${sig}:${pcrs}`}, /signature/)
    await check({quote: `r${attest}:${sig}:${flip(pcrs, 150)}`}, /pcrDigest/)
    await check({quote: q.slice(1)}, /does not start with/)
    await check({quote: `r${attest}:${sig}`}, /expected 3/)
  })

  it('a quote sent with a raw "+" in the URL is mangled by parse_qsl: invalid', async () => {
    let nonce = ''
    let q = ''
    for (let i = 0; !q.includes('+'); i++) {
      nonce = `plus${i}`
      q = await quote(U.a, nonce)
    }
    const raw = v(`/v2.2/verify/identity?agent_uuid=${U.a}&hash_alg=sha256&nonce=${nonce}&quote=${q}`)
    expect(results(await call(kl, raw)).valid).toBe(0)
    expect(results(await call(kl, verifyUrl({agent_uuid: U.a, hash_alg: 'sha256', nonce, quote: q}))).valid).toBe(1)
  })

  it('does not look at the operational state (spec §3.5 checks only the quote)', async () => {
    agent(U.b).setState(7)
    try {
      const q = await quote(U.b, 'stateless')
      expect(results(await call(kl, verifyUrl({agent_uuid: U.b, hash_alg: 'sha256', nonce: 'stateless', quote: q}))).valid).toBe(1)
    } finally {
      agent(U.b).setState(4)
    }
  })

  it('missing parameters are 400 in the order agent_uuid, quote, nonce, hash_alg; unknown agents 404', async () => {
    const all = {agent_uuid: U.a, quote: 'rAAAA:AAAA:AAAA', nonce: 'n', hash_alg: 'sha256'}
    for (const name of ['agent_uuid', 'quote', 'nonce', 'hash_alg'] as const) {
      expectEnvelope(await call(kl, verifyUrl({...all, [name]: ''})), 400, `missing query parameter '${name}'`)
    }
    expectEnvelope(await call(kl, verifyUrl({hash_alg: ''})), 400, "missing query parameter 'agent_uuid'")
    expectEnvelope(await call(kl, verifyUrl({...all, agent_uuid: U.unknown})), 404, 'agent id not found')
    expectEnvelope(await call(kl, verifyUrl({...all, agent_uuid: U.hidden})), 404, 'agent id not found')
  })

  it('does not exist before the 7.11 release (a verifier serving at most 2.1)', async () => {
    const old = await keylime({agents: 0, verifierVersions: ['1.0', '2.0', '2.1']})
    expectEnvelope(await call(old, `${old.verifier.url}/v2.1/verify/identity?agent_uuid=x`), 405, 'Not Implemented: Use /agents/ interface instead')
  })
})

describe('verifier agents and states (spec §3.2–3.4)', () => {
  const STATES = ['Registered', 'Start', 'Saved', 'Get Quote', 'Get Quote (retry)', 'Provide V', 'Provide V (retry)', 'Failed', 'Terminated', 'Invalid Quote', 'Tenant Quote Failed']

  it('GET /agents/{id} is a flat object with the documented fields', async () => {
    const res = results(await call(kl, v(`/v2.2/agents/${U.a}`)))
    expect(res).toMatchObject({operational_state: 3, ip: '127.0.0.1', port: agent(U.a).port, hash_alg: 'sha256', verifier_id: 'default', verifier_port: kl.verifier.port, has_mb_refstate: 0, has_runtime_policy: 0})
    expect(JSON.parse(res.tpm_policy)).toEqual({mask: '0x0'})
    expect(res).not.toHaveProperty('attestation_status') // 2.5+ only
  })

  it('setState changes operational_state through the whole 0..10 table', async () => {
    const kl2 = await keylime({agents: 1, verifierVersions: ['2.0', '2.5']})
    const a = kl2.agents[0]!
    for (let n = 0; n < STATES.length; n++) {
      a.setState(n)
      const res = results(await call(kl2, `${kl2.verifier.url}/v2.5/agents/${a.uuid}`))
      expect(res.operational_state).toBe(n)
      // The server-side verdict of 2.5 (spec §3.3): {3,4,5,6} PASS, {7,9,10} FAIL, else PENDING.
      expect(res.attestation_status).toBe([3, 4, 5, 6].includes(n) ? 'PASS' : [7, 9, 10].includes(n) ? 'FAIL' : 'PENDING')
    }
    expect(a.state).toBe(10)
    expect(() => a.setState(11)).toThrow(RangeError)
    expect(() => a.setState(2.5)).toThrow(RangeError)
  })

  it('lists one-element lists of ids (bulk: statuses by id; ?verifier= filters)', async () => {
    expect(results(await call(kl, v('/v2.2/agents/')))).toEqual({uuids: [[U.a], [U.old], [U.b]]})
    const bulk = results(await call(kl, v('/v2.2/agents/?bulk=true')))
    expect(Object.keys(bulk)).toEqual([U.a, U.old, U.b])
    expect(bulk[U.b].operational_state).toBe(4)
    expect(results(await call(kl, v('/v2.2/agents/?verifier=default'))).uuids).toHaveLength(3)
    expect(results(await call(kl, v('/v2.2/agents/?verifier=other')))).toEqual({uuids: []})
  })

  it('unknown or not-added agents are 404 "agent id not found"; malformed ids 400', async () => {
    expectEnvelope(await call(kl, v(`/v2.2/agents/${U.unknown}`)), 404, 'agent id not found')
    expectEnvelope(await call(kl, v(`/v2.2/agents/${U.spoof}`)), 404, 'agent id not found')
    expectEnvelope(await call(kl, v('/v2.2/agents/bad%20id')), 400, 'agent_id not not valid')
  })
})

describe('registrar (spec §4)', () => {
  it('shows an activated agent (≥7.12: with agent_id) and lists a flat array', async () => {
    const res = results(await call(kl, r(`/v2.3/agents/${U.a}`)))
    expect(res).toEqual({agent_id: U.a, aik_tpm: expect.any(String), ek_tpm: expect.any(String), ekcert: null, mtls_cert: 'disabled', ip: '127.0.0.1', port: agent(U.a).port, regcount: 1})
    expect(results(await call(kl, r('/v2.3/agents/')))).toEqual({uuids: [U.a, U.old, U.b, U.hidden]})
    expect(results(await call(kl, r('/v2/agents')))).toEqual({uuids: [U.a, U.old, U.b, U.hidden]})
  })

  it('unknown agents: 404 "Agent with ID …"; unmatched routes an empty 404; HTTP port refuses /agents', async () => {
    expectEnvelope(await call(kl, r(`/v2.3/agents/${U.spoof}`)), 404, `Agent with ID '${U.spoof}' not found`)
    const route = await call(kl, r('/v2.9/agents/'))
    expect([route.status, route.text]).toEqual([404, ''])
    const http = await call(kl, `${kl.registrar.httpUrl}/v2.3/agents/`)
    expect([http.status, http.text]).toEqual([400, ''])
  })

  it('a ≤7.11 registrar: "agent <id> not found", no agent_id, invalid ids 400', async () => {
    const old = await keylime({agents: [{uuid: U.a}], registrarVersions: ['2.0', '2.1', '2.2']})
    expect(results(await call(old, `${old.registrar.url}/v2.2/agents/${U.a}`))).not.toHaveProperty('agent_id')
    expect(results(await call(old, `${old.registrar.url}/v2.2/agents`))).toEqual({uuids: [U.a]})
    expectEnvelope(await call(old, `${old.registrar.url}/v2.2/agents/${U.unknown}`), 404, `agent ${U.unknown} not found`)
    expectEnvelope(await call(old, `${old.registrar.url}/v2.2/agents/a%2Fb`), 400, 'agent_id is not valid')
  })

  it('stores the AK as a TPM2B_PUBLIC (ECC, restricted signing key)', async () => {
    const aik = Buffer.from(results(await call(kl, r(`/v2.3/agents/${U.a}`))).aik_tpm, 'base64')
    expect(aik.readUInt16BE(0)).toBe(aik.length - 2)
    expect(aik.readUInt16BE(2)).toBe(0x0023) // TPM_ALG_ECC
    expect(aik.readUInt32BE(6)).toBe(0x00050072)
  })
})

describe('TLS and client certificates (spec §2.1, §3.1)', () => {
  it('verifier and registrar refuse a connection without a client certificate or with a foreign one', async () => {
    const logged = kl.requests.length
    for (const url of [v('/version'), r('/version'), v(`/v2.2/agents/${U.a}`)]) {
      await expect(call(kl, url, {cred: 'none'})).rejects.toThrow(/certificate required|alert|socket hang up|ECONNRESET/i)
      await expect(call(kl, url, {cred: 'other'})).rejects.toThrow(/unknown ca|alert|socket hang up|ECONNRESET/i)
    }
    // Refused at the TLS layer: no HTTP request ever reached the services.
    expect(kl.requests.length).toBe(logged)
  })

  it('serves a certificate named "server": chain checks pass, host-name checks fail', async () => {
    await expect(call(kl, v('/version'), {checkHost: true})).rejects.toThrow(/altnames|hostname|does not match/i)
    await expect(call(kl, v('/version'), {ca: kl.otherClient.certPem})).rejects.toThrow(/certificate/i)
  })

  it('7.14+ (2.5+): the handshake passes without a certificate; admin routes answer 403 in JSON:API', async () => {
    const k = await keylime({agents: [{uuid: U.a}], verifierVersions: ['2.0', '2.5'], registrarVersions: ['2.0', '2.5']})
    const vURL = (p: string) => `${k.verifier.url}${p}`
    for (const cred of ['none', 'other'] as const) {
      expect((await call(k, vURL('/version'), {cred})).status).toBe(200)
      const q = results(await call(k, `${k.agents[0]!.url}/v2.3/quotes/identity?nonce=pub`))
      expect(results(await call(k, vURL(`/v2.5/verify/identity?agent_uuid=${U.a}&hash_alg=sha256&nonce=pub&quote=${encodeURIComponent(q.quote)}`), {cred})).valid).toBe(1)
      const denied = await call(k, vURL(`/v2.5/agents/${U.a}`), {cred})
      expect(denied.status).toBe(403)
      expect(denied.body).toEqual({errors: [{status: '403', title: 'Forbidden', detail: expect.stringMatching(/read_agent/)}]})
      expect((await call(k, vURL('/v2.5/agents/'), {cred})).body.errors[0].detail).toMatch(/list_agents.*mTLS/)
      expect((await call(k, `${k.registrar.url}/v2.5/agents/${U.a}`, {cred})).body.errors[0].detail).toMatch(/read_registration/)
    }
    expect(results(await call(k, vURL(`/v2.5/agents/${U.a}`))).attestation_status).toBe('PASS')
    expect(results(await call(k, `${k.registrar.url}/v2.5/agents/`))).toEqual({uuids: [U.a]})
  })

  it('mTLS agents: HTTPS with a pinned self-signed certificate (CN = UUID), client certificate required', async () => {
    const k = await keylime({agents: [{uuid: U.a}, {uuid: U.b, mtls: false}], agentMtls: true})
    const a = k.agents[0]!
    const plain = k.agents[1]!
    expect(a.url).toMatch(/^https:/)
    expect(plain.url).toMatch(/^http:/)
    expect(plain.certPem).toBeUndefined()
    expect(results(await call(k, `${a.url}/v2.2/agent/info`, {ca: a.certPem})).agent_uuid).toBe(U.a)
    await expect(call(k, `${a.url}/version`, {ca: a.certPem, cred: 'none'})).rejects.toThrow()
    await expect(call(k, `${a.url}/version`, {ca: a.certPem, cred: 'other'})).rejects.toThrow()
    expect(results(await call(k, `${k.registrar.url}/v2.3/agents/${U.a}`)).mtls_cert).toBe(a.certPem)
  })
})

describe('faults, unreachable agents, request log', () => {
  it('verifierErrors: the next N verifier requests answer tornado\'s 500', async () => {
    kl.faults.verifierErrors = 2
    for (let i = 0; i < 2; i++) {
      const res = await call(kl, v(`/v2.2/agents/${U.a}`))
      expectEnvelope(res, 500, 'Internal Server Error')
      expect(res.type).toBe('text/json')
    }
    expect(kl.faults.verifierErrors).toBe(0)
    expect((await call(kl, v(`/v2.2/agents/${U.a}`))).status).toBe(200)
  })

  it('agentErrors: a quote fails with "Unable to retrieve quote"; registrarErrors: the registrar 500s', async () => {
    kl.faults.agentErrors = 1
    expectEnvelope(await call(kl, `${agent(U.a).url}/v2.2/quotes/identity?nonce=x`), 500, 'Unable to retrieve quote')
    expect((await call(kl, `${agent(U.a).url}/v2.2/quotes/identity?nonce=x`)).status).toBe(200)
    kl.faults.registrarErrors = 1
    expect((await call(kl, r('/version'))).status).toBe(500)
    expect((await call(kl, r('/version'))).status).toBe(200)
  })

  it('latencyMs delays every answer', async () => {
    kl.faults.latencyMs = 120
    try {
      const start = Date.now()
      await call(kl, `${agent(U.a).url}/version`)
      expect(Date.now() - start).toBeGreaterThanOrEqual(110)
    } finally {
      kl.faults.latencyMs = 0
    }
  })

  it('logs service, method, path, query and status (agents also their UUID)', async () => {
    const before = Date.now()
    await call(kl, `${agent(U.b).url}/v2.2/quotes/identity?nonce=logme`)
    expect(kl.requests.at(-1)!.at).toBeGreaterThanOrEqual(before)
    expect(kl.requests.at(-1)!.at).toBeLessThanOrEqual(Date.now())
    expect(kl.requests.at(-1)).toEqual({at: expect.any(Number), service: 'agent', method: 'GET', path: '/v2.2/quotes/identity', query: {nonce: 'logme'}, status: 200, uuid: U.b})
    await call(kl, v(`/v2.2/agents/${U.unknown}`))
    expect(kl.requests.at(-1)).toEqual({at: expect.any(Number), service: 'verifier', method: 'GET', path: `/v2.2/agents/${U.unknown}`, query: {}, status: 404})
  })

  it('unreachable agents refuse connections; stop() makes a running agent unreachable', async () => {
    const k = await keylime({agents: [{uuid: U.a, unreachable: true}, {uuid: U.b}]})
    await expect(call(k, `${k.agents[0]!.url}/version`)).rejects.toThrow(/ECONNREFUSED/)
    expect(results(await call(k, `${k.verifier.url}/v2.2/agents/${U.a}`)).operational_state).toBe(3)
    await k.agents[1]!.stop()
    await expect(call(k, `${k.agents[1]!.url}/version`)).rejects.toThrow(/ECONNREFUSED/)
  })
})

describe('options and run-time changes', () => {
  it('addAgents adds reachable agents to every service; duplicate UUIDs are refused', async () => {
    const [added] = await kl.addAgents([{uuid: 'added-agent.1', state: 9}])
    expect(kl.agents.at(-1)).toBe(added)
    expect(results(await call(kl, `${added!.url}/v2.2/agent/info`)).agent_uuid).toBe('added-agent.1')
    expect(results(await call(kl, v('/v2.2/agents/added-agent.1'))).operational_state).toBe(9)
    expect(results(await call(kl, r('/v2.3/agents/'))).uuids).toContain('added-agent.1')
    await expect(kl.addAgents([{uuid: U.a}])).rejects.toThrow(/duplicate agent uuid/)
    await expect(kl.addAgents([{uuid: 'x1'}, {uuid: 'x1'}])).rejects.toThrow(/duplicate agent uuid/)
  })

  it('rejects unknown options, versions and states', async () => {
    await expect(startKeylime({agnets: 1} as never)).rejects.toThrow(/unknown option/)
    await expect(startKeylime({agentVersions: ['2.2', '3.0']})).rejects.toThrow(/unknown API version "3.0"/)
    await expect(startKeylime({agents: [{state: 12}]})).rejects.toThrow(RangeError)
    await expect(startKeylime({agents: [{uuid: 'no spaces'}]})).rejects.toThrow(/uuid/)
    await expect(startKeylime({agents: [{mtls: 'yes'}]} as never)).rejects.toThrow(/boolean/)
  })

  it('starts and stops 500 agents quickly', async () => {
    const start = Date.now()
    const big = await startKeylime({agents: 500})
    const startedMs = Date.now() - start
    try {
      expect(new Set(big.agents.map((a) => a.port)).size).toBe(500)
      expect(results(await call(big, `${big.agents[499]!.url}/version`)).supported_version).toBe('2.3')
      expect(results(await call(big, `${big.verifier.url}/v2.2/agents/`)).uuids).toHaveLength(500)
    } finally {
      const stopStart = Date.now()
      await big.stop()
      expect(Date.now() - stopStart).toBeLessThan(2000)
    }
    expect(startedMs).toBeLessThan(5000)
    const port = big.agents[0]!.port
    await expect(new Promise((resolve, reject) => connect(port, '127.0.0.1').on('connect', resolve).on('error', reject))).rejects.toThrow(/ECONNREFUSED/)
  })
})

describe('command line', () => {
  it('prints the URLs and the TLS directory, serves, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [SERVER, '--agents', '2'], {stdio: ['ignore', 'pipe', 'pipe']})
    try {
      const out = await stdoutUntil(child, /TLS files: \S+/)
      const dir = /TLS files: (\S+)/.exec(out)![1]!
      const verifier = /verifier: +(https:\/\/\S+)/.exec(out)![1]!
      expect(out.match(/^agent \S+: http:\/\/127\.0\.0\.1:\d+$/gm)).toHaveLength(2)
      const files = {ca: readFileSync(join(dir, 'cacert.crt'), 'utf8'), cert: readFileSync(join(dir, 'client-cert.crt'), 'utf8'), key: readFileSync(join(dir, 'client-private.pem'), 'utf8')}
      expect(readFileSync(join(dir, 'agents.txt'), 'utf8').trim().split('\n')).toHaveLength(2)
      rmSync(dir, {recursive: true, force: true})
      const status = await new Promise<number>((resolve, reject) => {
        httpsRequest(`${verifier}/version`, {...files, agent: false, checkServerIdentity: () => undefined}, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
          .on('error', reject)
          .end()
      })
      expect(status).toBe(200)
      const exited = new Promise((resolve) => child.on('exit', resolve))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      child.kill('SIGKILL')
    }
  })
})
