#!/usr/bin/env node
// Keylime fleet benchmark (after npm run build): `trustctl keylime fleet status` over N emulated
// agents with 20 ms added latency at concurrency 64, against the ideal time (agent requests x 20 ms
// / 64) as an efficiency (ideal / actual; target >= 0.8), and the command's peak memory (max RSS).
// Usage: node bench/keylime.js [--agents N] [--json]
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const N = args.includes('--agents') ? Number(args[args.indexOf('--agents') + 1]) : 2000
const asJson = args.includes('--json')
const LATENCY = 20
const CONCURRENCY = 64

const {startKeylime} = await import(pathToFileURL(join(root, 'test', 'emulators', 'keylime', 'server.js')).href)
const kl = await startKeylime({agents: N})
const work = mkdtempSync(join(tmpdir(), 'bench-kl-'))
try {
  writeFileSync(join(work, 'agents.txt'), kl.agents.map((a) => `127.0.0.1:${a.port}`).join('\n'))
  writeFileSync(join(work, 'ca.pem'), kl.ca.certPem)
  writeFileSync(join(work, 'client.pem'), kl.client.certPem)
  writeFileSync(join(work, 'client.key'), kl.client.keyPem)
  kl.faults.latencyMs = LATENCY
  const before = kl.requests.filter((r) => r.service === 'agent').length
  // /usr/bin/time -f %M reports the command's peak RSS (KiB); async spawn keeps the emulator answering.
  const t0 = process.hrtime.bigint()
  const {code, stdout, stderr} = await new Promise((resolve) => {
    const c = spawn('/usr/bin/time', ['-f', 'maxrss_kib=%M', process.execPath, join(root, 'bin', 'run.js'), 'keylime', 'fleet', 'status', '--agents', 'agents.txt', '--concurrency', String(CONCURRENCY), '--verifier-port', String(kl.verifier.port), '--registrar-port', String(kl.registrar.port), '--ca-file', 'ca.pem', '--cert', 'client.pem', '--key', 'client.key', '--json'], {cwd: work, env: {...process.env, HOME: work}})
    let out = ''
    let err = ''
    c.stdout.setEncoding('utf8').on('data', (d) => (out += d))
    c.stderr.setEncoding('utf8').on('data', (d) => (err += d))
    c.on('close', (code) => resolve({code, stdout: out, stderr: err}))
  })
  const actualMs = Number(process.hrtime.bigint() - t0) / 1e6
  if (code !== 0) throw new Error(`fleet status failed (${code}): ${stderr}`)
  const agentRequests = kl.requests.filter((r) => r.service === 'agent').length - before
  const idealMs = (agentRequests * LATENCY) / CONCURRENCY
  const summary = JSON.parse(stdout).summary
  const maxRssMiB = Number((Number(/maxrss_kib=(\d+)/.exec(stderr)?.[1] ?? 0) / 1024).toFixed(1))
  const result = {agents: N, latencyMs: LATENCY, concurrency: CONCURRENCY, agentRequests, idealMs: Math.round(idealMs), actualMs: Math.round(actualMs), efficiency: Number((idealMs / actualMs).toFixed(2)), target: '>= 0.8', maxRssMiB, reachable: summary.reachable}
  if (asJson) console.log(JSON.stringify(result, null, 2))
  else {
    console.log(`keylime fleet benchmark, node ${process.version}`)
    console.log(`${N} agents (${summary.reachable} reachable), ${LATENCY} ms latency, concurrency ${CONCURRENCY}: ${agentRequests} agent requests, ideal ${result.idealMs} ms, actual ${result.actualMs} ms (whole command, start-up included) -> efficiency ${result.efficiency} (target >= 0.8: ${result.efficiency >= 0.8 ? 'ok' : 'MISSED'})`)
    console.log(`peak memory of the command: ${maxRssMiB} MiB`)
  }
} finally {
  await kl.stop()
  rmSync(work, {recursive: true, force: true})
}
