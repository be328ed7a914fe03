#!/usr/bin/env node
// Keylime fleet benchmark (after npm run build): `trustctl keylime fleet status` over N emulated
// agents with 20 ms added latency at concurrency 64, against the ideal time (agent requests x 20 ms
// / 64) as an efficiency (ideal / actual; target >= 0.8), and the command's peak memory (max RSS).
// Baseline, measured in the same run against the same emulator: a bare Node script that does only
// the agents' requests (GET /version, then /agent/info, 64 agents at a time) with node:http — what
// this machine and emulator allow before any CLI work. Rounds alternate the two; medians are printed.
// Usage: node bench/keylime.js [--agents N] [--rounds R] [--json]
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt)
const N = opt('--agents', 2000)
const ROUNDS = opt('--rounds', 3)
const asJson = args.includes('--json')
const LATENCY = 20
const CONCURRENCY = 64

// The baseline scanner: no config, no envelope checks, no output beyond a count.
const BARE = `
const {Agent, request} = require('node:http')
const eps = require('node:fs').readFileSync(process.argv[2], 'utf8').trim().split('\\n')
const agent = new Agent({keepAlive: true, maxSockets: 256})
const get = (url, close) => new Promise((res, rej) => request(url, {agent, headers: close ? {connection: 'close'} : {}}, (r) => { let b = ''; r.setEncoding('utf8'); r.on('data', (d) => (b += d)); r.on('end', () => res(b)) }).on('error', rej).end())
let next = 0, ok = 0
Promise.all(Array.from({length: ${CONCURRENCY}}, async () => {
  while (next < eps.length) {
    const base = 'http://' + eps[next++]
    const v = JSON.parse(await get(base + '/version')).results.supported_version
    if (JSON.parse(await get(base + '/v' + v + '/agent/info', true)).results.agent_uuid) ok++
  }
})).then(() => console.log(JSON.stringify({reachable: ok})))
`

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Runs argv under /usr/bin/time (peak RSS) without blocking the emulator in this process. */
function timed(argv, cwd) {
  return new Promise((resolve) => {
    const started = Date.now()
    let firstOutputAt
    const c = spawn('/usr/bin/time', ['-f', 'maxrss_kib=%M cpu=%U+%S', ...argv], {cwd, env: {...process.env, HOME: cwd}})
    let out = ''
    let err = ''
    c.stdout.setEncoding('utf8').on('data', (d) => {
      firstOutputAt ??= Date.now()
      out += d
    })
    c.stderr.setEncoding('utf8').on('data', (d) => (err += d))
    c.on('close', (code) => resolve({code, stdout: out, stderr: err, started, ended: Date.now(), firstOutputAt, maxRssMiB: Number(/maxrss_kib=(\d+)/.exec(err)?.[1] ?? 0) / 1024, cpuMs: Math.round(1000 * (/cpu=([\d.]+)\+([\d.]+)/.exec(err) ?? [0, 0, 0]).slice(1).reduce((a, x) => a + Number(x), 0))}))
  })
}

const {startKeylime} = await import(pathToFileURL(join(root, 'test', 'emulators', 'keylime', 'server.js')).href)
const kl = await startKeylime({agents: N})
const work = mkdtempSync(join(tmpdir(), 'bench-kl-'))
try {
  writeFileSync(join(work, 'agents.txt'), kl.agents.map((a) => `127.0.0.1:${a.port}`).join('\n'))
  writeFileSync(join(work, 'bare.js'), BARE)
  writeFileSync(join(work, 'ca.pem'), kl.ca.certPem)
  writeFileSync(join(work, 'client.pem'), kl.client.certPem)
  writeFileSync(join(work, 'client.key'), kl.client.keyPem)
  kl.faults.latencyMs = LATENCY
  const trustctlArgv = [process.execPath, ...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : []), join(root, 'bin', 'run.js'), 'keylime', 'fleet', 'status', '--agents', 'agents.txt', '--concurrency', String(CONCURRENCY), '--verifier-port', String(kl.verifier.port), '--registrar-port', String(kl.registrar.port), '--ca-file', 'ca.pem', '--cert', 'client.pem', '--key', 'client.key', '--json']
  const bareArgv = [process.execPath, 'bare.js', 'agents.txt']

  const measure = async (argv, label) => {
    const before = kl.requests.length
    const r = await timed(argv, work)
    if (r.code !== 0) throw new Error(`${label} failed (${r.code}): ${r.stderr}`)
    const agentLog = kl.requests.slice(before).filter((e) => e.service === 'agent')
    const reachable = label === 'trustctl' ? JSON.parse(r.stdout).summary.reachable : JSON.parse(r.stdout).reachable
    if (reachable !== N) throw new Error(`${label} reached ${reachable} of ${N} agents`)
    const actualMs = r.ended - r.started
    const idealMs = (agentLog.length * LATENCY) / CONCURRENCY
    const first = agentLog[0]?.at ?? r.started
    const last = agentLog.at(-1)?.at ?? r.ended
    return {actualMs, idealMs, requests: agentLog.length, efficiency: idealMs / actualMs, maxRssMiB: r.maxRssMiB, cpuMs: r.cpuMs, untilFirstAnswerMs: first - r.started, scanMs: last - first, afterLastAnswerMs: r.ended - last}
  }

  const runs = {trustctl: [], bare: []}
  for (let i = 0; i < ROUNDS; i++) {
    runs.bare.push(await measure(bareArgv, 'bare'))
    runs.trustctl.push(await measure(trustctlArgv, 'trustctl'))
  }
  const summarize = (xs) => Object.fromEntries(Object.keys(xs[0]).map((k) => [k, Number(median(xs.map((x) => x[k])).toFixed(k === 'efficiency' ? 3 : 1))]))
  const t = summarize(runs.trustctl)
  const b = summarize(runs.bare)
  const result = {agents: N, latencyMs: LATENCY, concurrency: CONCURRENCY, rounds: ROUNDS, target: 'efficiency >= 0.8', trustctl: t, bareNodeBaseline: b, trustctlVsBare: Number((t.efficiency / b.efficiency).toFixed(3)), efficiencies: {trustctl: runs.trustctl.map((x) => Number(x.efficiency.toFixed(3))), bare: runs.bare.map((x) => Number(x.efficiency.toFixed(3)))}}
  if (asJson) console.log(JSON.stringify(result, null, 2))
  else {
    console.log(`keylime fleet benchmark, node ${process.version}: ${N} agents, ${LATENCY} ms latency, concurrency ${CONCURRENCY}, medians of ${ROUNDS} rounds`)
    console.log(`trustctl fleet status: ${t.requests} agent requests, ideal ${Math.round(t.idealMs)} ms, actual ${Math.round(t.actualMs)} ms (whole command, start-up included) -> efficiency ${t.efficiency} (target >= 0.8: ${t.efficiency >= 0.8 ? 'ok' : 'MISSED'}); rounds ${result.efficiencies.trustctl.join(', ')}`)
    console.log(`  ${Math.round(t.untilFirstAnswerMs)} ms until the first agent answer (start-up), ${Math.round(t.scanMs)} ms scan, ${Math.round(t.afterLastAnswerMs)} ms after the last answer; peak memory ${t.maxRssMiB} MiB, CPU ${t.cpuMs} ms`)
    console.log(`bare node:http baseline (same requests, same emulator): actual ${Math.round(b.actualMs)} ms -> efficiency ${b.efficiency} (${Math.round(b.untilFirstAnswerMs)} ms start-up, ${Math.round(b.scanMs)} ms scan; peak memory ${b.maxRssMiB} MiB, CPU ${b.cpuMs} ms); rounds ${result.efficiencies.bare.join(', ')}`)
    console.log(`trustctl / bare efficiency: ${result.trustctlVsBare}`)
  }
} finally {
  await kl.stop()
  rmSync(work, {recursive: true, force: true})
}
