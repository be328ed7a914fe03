#!/usr/bin/env node
// A strict emulator of Keylime's pull-model agent, verifier and registrar REST APIs, following
// /work/shared/specs/keylime-api.md. See README.md for what it covers, the fault knobs and the
// INFERRED choices.
//
//   node test/emulators/keylime/server.js [--agents N] [--agent-mtls]
import {randomBytes, randomUUID} from 'node:crypto'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {createServer as createHttpServer} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {URLSearchParams} from 'node:url'
import {parseArgs} from 'node:util'

import {runIfMain, stopOnSignals} from '../run-main.js'
import {agentFault, handleAgent} from './lib/agent.js'
import {validAgentId} from './lib/legacy.js'
import {agentCertificate, makePki} from './lib/pki.js'
import {handleRegistrar, handleRegistrarHttp, registrarFault} from './lib/registrar.js'
import {createTpm} from './lib/tpm.js'
import {handleVerifier, verifierFault} from './lib/verifier.js'
import {agentVersions, atLeast, DEFAULT_VERSIONS, latest, serverVersions} from './lib/versions.js'

const HOST = '127.0.0.1'
/** Server-side PASS states (spec §3.3): a verifier polling such an agent records attestations. */
const POLLED_OK = new Set([3, 4, 5, 6])

// ---- options

const OPTION_KEYS = ['agents', 'verifierVersions', 'registrarVersions', 'agentVersions', 'agentMtls']
const SPEC_KEYS = ['uuid', 'versions', 'state', 'mtls', 'unreachable', 'reportUuid', 'registered', 'inVerifier']

function checkKeys(obj, allowed, what) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new TypeError(`startKeylime: ${what} must be an object`)
  const unknown = Object.keys(obj).filter((k) => !allowed.includes(k))
  if (unknown.length > 0) throw new TypeError(`startKeylime: unknown ${what} field(s) ${unknown.join(', ')} (known: ${allowed.join(', ')})`)
}

function checkBoolean(value, what) {
  if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`startKeylime: ${what} must be a boolean`)
}

/** operational_state is an integer of the §3.3 table. */
function checkState(n) {
  if (!Number.isInteger(n) || n < 0 || n > 10) throw new RangeError(`operational_state must be an integer 0..10, got ${n}`)
  return n
}

function checkUuid(uuid, what) {
  // Ids the verifier would refuse (400 "agent_id not not valid") could never be looked up.
  if (typeof uuid !== 'string' || !validAgentId(uuid)) throw new TypeError(`startKeylime: ${what} must match [A-Za-z0-9_.-]+, got ${JSON.stringify(uuid)}`)
  return uuid
}

function checkSpec(spec, what) {
  checkKeys(spec, SPEC_KEYS, what)
  for (const key of ['mtls', 'unreachable', 'registered', 'inVerifier']) checkBoolean(spec[key], `${what}.${key}`)
  if (spec.state !== undefined) checkState(spec.state)
  if (spec.uuid !== undefined) checkUuid(spec.uuid, `${what}.uuid`)
  if (spec.reportUuid !== undefined) checkUuid(spec.reportUuid, `${what}.reportUuid`)
  if (spec.versions !== undefined) agentVersions(spec.versions, `${what}.versions`)
  return spec
}

function checkOptions(opts) {
  checkKeys(opts, OPTION_KEYS, 'option')
  checkBoolean(opts.agentMtls, 'agentMtls')
  const agents = opts.agents ?? 1
  if (!Array.isArray(agents) && !(Number.isInteger(agents) && agents >= 0)) throw new TypeError('startKeylime: agents must be a count or an array of AgentSpec')
  return {
    specs: Array.isArray(agents) ? agents : Array.from({length: agents}, () => ({})),
    verifierVersions: serverVersions(opts.verifierVersions ?? DEFAULT_VERSIONS, 'verifierVersions'),
    registrarVersions: serverVersions(opts.registrarVersions ?? DEFAULT_VERSIONS, 'registrarVersions'),
    agentVersions: agentVersions(opts.agentVersions ?? DEFAULT_VERSIONS, 'agentVersions'),
    agentMtls: opts.agentMtls ?? false,
  }
}

// ---- the request pipeline

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Consumes one injected 500 if any is pending for this service. */
function takeFault(faults, knob) {
  if (faults[knob] <= 0) return false
  faults[knob]--
  return true
}

function splitUrl(url) {
  const at = url.indexOf('?')
  return at < 0 ? {path: url, rawQuery: ''} : {path: url.slice(0, at), rawQuery: url.slice(at + 1)}
}

async function answer(emu, service, req, res) {
  req.resume() // emulated routes take no body; drain it so keep-alive connections stay usable
  const ctx = {req, res, method: req.method, ...splitUrl(req.url)}
  try {
    if (emu.faults.latencyMs > 0) await sleep(emu.faults.latencyMs)
    if (takeFault(emu.faults, service.knob)) service.fault(ctx)
    else service.route(ctx)
  } catch (err) {
    // A bug in the emulator: make it loud rather than look like a Keylime answer.
    if (!res.headersSent) res.writeHead(500, {'content-type': 'text/plain; charset=utf-8'})
    res.end(`emulator error: ${err.stack ?? err}\n`)
  } finally {
    // Logged as the answer is written, so a test that has its response also sees the entry.
    const entry = {at: Date.now(), service: service.name, method: ctx.method, path: ctx.path, query: Object.fromEntries(new URLSearchParams(ctx.rawQuery)), status: res.statusCode}
    emu.requests.push(service.agent ? {...entry, uuid: service.agent.uuid} : entry)
  }
}

const listener = (emu, service) => (req, res) => void answer(emu, service, req, res)

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, HOST, () => {
      server.off('error', reject)
      resolve(server.address().port)
    })
  })
}

function close(server) {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

/**
 * TLS as Keylime's servers set it up (spec §3.1, §4): certificate "server" from the test CA and
 * client certificates checked against the same CA. Before 7.14 a missing or foreign client
 * certificate fails the handshake; 7.14+ (authz) lets the handshake through and denies per route.
 */
function tlsServer(emu, authz, handler) {
  const {server, ca} = emu.pki
  return createHttpsServer({key: server.keyPem, cert: server.certPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: !authz, minVersion: 'TLSv1.2'}, handler)
}

// ---- agents

/** Attestation counters as a verifier polling every 2 s would have recorded them (spec §3.2). */
function recordState(agent, state) {
  const now = Math.floor(Date.now() / 1000)
  agent.state = state
  if (state <= 2) return
  agent.attestation.lastReceived = now
  if (POLLED_OK.has(state)) {
    agent.attestation.count++
    agent.attestation.lastSuccess = now
  }
}

function createAgent(spec, options) {
  const uuid = spec.uuid ?? randomUUID()
  const agent = {
    uuid,
    reportUuid: spec.reportUuid ?? uuid,
    versions: spec.versions ? agentVersions(spec.versions, 'versions') : options.agentVersions,
    mtls: spec.mtls ?? options.agentMtls,
    registered: spec.registered ?? true,
    inVerifier: spec.inVerifier ?? true,
    unreachable: spec.unreachable ?? false,
    tpm: createTpm(),
    // INFERRED: a transient-range AK handle; the agent reports it as a JSON number (spec §2.3).
    akHandle: 0x80000000 + randomBytes(3).readUIntBE(0, 3),
    v: randomBytes(32).toString('base64'),
    attestation: {count: 0, lastReceived: 0, lastSuccess: 0},
    host: HOST,
  }
  recordState(agent, spec.state ?? 3)
  return agent
}

/**
 * One light server per agent, since each needs its own host:port. An unreachable agent gets a
 * port that is immediately closed again: connecting to it is refused.
 */
async function startAgent(emu, agent) {
  const service = {name: 'agent', knob: 'agentErrors', agent, route: (ctx) => handleAgent(emu, agent, ctx), fault: (ctx) => agentFault(ctx.res, ctx.path)}
  const handler = listener(emu, service)
  let server
  if (agent.mtls) {
    // CN = UUID, SAN IP = contact IP (spec §2.1): no port in it, so it is made before listening.
    agent.certPem = agentCertificate(emu.pki, agent.uuid, agent.host)
    server = createHttpsServer({key: emu.pki.agentKey.keyPem, cert: agent.certPem, ca: [emu.pki.ca.certPem], requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2'}, handler)
  } else {
    server = createHttpServer(handler)
  }
  agent.port = await listen(server)
  agent.url = `${agent.mtls ? 'https' : 'http'}://${HOST}:${agent.port}`
  agent.server = server
  if (agent.unreachable) await stopAgent(emu, agent)
  else emu.servers.add(server)
}

async function stopAgent(emu, agent) {
  agent.unreachable = true
  emu.servers.delete(agent.server)
  await close(agent.server)
}

function publicAgent(emu, agent) {
  return {
    uuid: agent.uuid,
    url: agent.url,
    host: agent.host,
    port: agent.port,
    ...(agent.certPem ? {certPem: agent.certPem} : {}),
    get state() {
      return agent.state
    },
    setState: (n) => recordState(agent, checkState(n)),
    stop: () => stopAgent(emu, agent),
  }
}

/** Validates and records new agents (before anything slow starts, so bad specs fail fast). */
function registerAgents(emu, specs, options) {
  if (!Array.isArray(specs)) throw new TypeError('addAgents: specs must be an array of AgentSpec')
  const agents = specs.map((spec, i) => createAgent(checkSpec(spec, `agents[${i}]`), options))
  const uuids = agents.map((a) => a.uuid)
  const taken = uuids.find((uuid, i) => emu.byUuid.has(uuid) || uuids.indexOf(uuid) !== i)
  if (taken) throw new Error(`startKeylime: duplicate agent uuid ${taken} (use reportUuid to emulate agents claiming the same UUID)`)
  for (const agent of agents) emu.byUuid.set(agent.uuid, agent)
  return agents
}

async function launchAgents(emu, agents) {
  await Promise.all(agents.map((agent) => startAgent(emu, agent)))
  emu.agents.push(...agents)
  const handles = agents.map((agent) => publicAgent(emu, agent))
  emu.handles.push(...handles)
  return handles
}

// ---- the emulator

async function startServices(emu) {
  const verifier = tlsServer(emu, emu.verifier.authz, listener(emu, {name: 'verifier', knob: 'verifierErrors', route: (ctx) => handleVerifier(emu, ctx), fault: (ctx) => verifierFault(ctx.res)}))
  const registrarService = {name: 'registrar', knob: 'registrarErrors', fault: (ctx) => registrarFault(emu, ctx.res)}
  const registrar = tlsServer(emu, emu.registrar.authz, listener(emu, {...registrarService, route: (ctx) => handleRegistrar(emu, ctx)}))
  const registrarHttp = createHttpServer(listener(emu, {...registrarService, route: (ctx) => handleRegistrarHttp(emu, ctx)}))
  const [vPort, rPort, rHttpPort] = await Promise.all([verifier, registrar, registrarHttp].map(listen))
  for (const server of [verifier, registrar, registrarHttp]) emu.servers.add(server)
  emu.verifier.port = vPort
  emu.registrar.port = rPort
  emu.registrar.httpPort = rHttpPort
}

export async function startKeylime(opts = {}) {
  const options = checkOptions(opts)
  const emu = {
    host: HOST,
    startedAt: Date.now(),
    faults: {latencyMs: 0, verifierErrors: 0, registrarErrors: 0, agentErrors: 0},
    requests: [],
    agents: [], // internal records, in creation order
    handles: [], // what callers get, same order
    byUuid: new Map(),
    servers: new Set(),
    // 7.14+ (a server listing 2.5+) authorizes per route instead of at the TLS handshake.
    verifier: {versions: options.verifierVersions, authz: atLeast(latest(options.verifierVersions), '2.5')},
    registrar: {versions: options.registrarVersions, authz: atLeast(latest(options.registrarVersions), '2.5')},
  }
  const agents = registerAgents(emu, options.specs, options)
  emu.pki = await makePki()
  try {
    await startServices(emu)
    await launchAgents(emu, agents)
  } catch (err) {
    await Promise.all([...emu.servers].map(close))
    throw err
  }
  const endpoint = (port, scheme = 'https') => ({url: `${scheme}://${HOST}:${port}`, host: HOST, port})
  return {
    verifier: endpoint(emu.verifier.port),
    registrar: {...endpoint(emu.registrar.port), httpUrl: `http://${HOST}:${emu.registrar.httpPort}`, httpPort: emu.registrar.httpPort},
    agents: emu.handles,
    ca: {certPem: emu.pki.ca.certPem},
    client: emu.pki.client,
    otherClient: emu.pki.otherClient,
    faults: emu.faults,
    requests: emu.requests,
    addAgents: async (specs) => launchAgents(emu, registerAgents(emu, specs, options)),
    stop: async () => {
      await Promise.all([...emu.servers].map(close))
      emu.servers.clear()
    },
  }
}

// ---- command line

/** Keylime's own cv_ca file names, so the files drop into a trustctl or Keylime configuration. */
function writeTlsFiles(kl) {
  const dir = mkdtempSync(join(tmpdir(), 'keylime-emulator-'))
  const files = {
    'cacert.crt': kl.ca.certPem,
    'client-cert.crt': kl.client.certPem,
    'client-private.pem': kl.client.keyPem,
    'other-client-cert.crt': kl.otherClient.certPem,
    'other-client-private.pem': kl.otherClient.keyPem,
    'agents.txt': kl.agents.map((a) => `${a.host}:${a.port}\n`).join(''),
  }
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, {mode: 0o600})
  return dir
}

async function main() {
  const {values} = parseArgs({options: {agents: {type: 'string', default: '1'}, 'agent-mtls': {type: 'boolean', default: false}}})
  if (!/^\d+$/.test(values.agents)) throw new Error(`--agents must be a count, got ${values.agents}`)
  const kl = await startKeylime({agents: Number(values.agents), agentMtls: values['agent-mtls']})
  console.log(`verifier:  ${kl.verifier.url}`)
  console.log(`registrar: ${kl.registrar.url} (plain HTTP: ${kl.registrar.httpUrl})`)
  for (const agent of kl.agents) console.log(`agent ${agent.uuid}: ${agent.url}`)
  console.log(`TLS files: ${writeTlsFiles(kl)}`)
  stopOnSignals(() => kl.stop())
}

runIfMain(import.meta.url, main)
