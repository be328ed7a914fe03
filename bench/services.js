#!/usr/bin/env node
// Services benchmark (after npm run build), everything measured in this one run, loopback only:
// (1) `trustctl verifier serve`, cached path: requests/s and p99 latency at concurrency 64 over its
//     unix socket, against a bare node:http server returning the same bytes on a unix socket.
//     Targets: throughput ratio >= 0.7 and p99 < 10 ms.
// (2) `trustctl signer http`: p99 of valid /sign requests (forwarded to signer unix on a swtpm) alone,
//     and while 1,000 invalid-signature and oversize requests arrive concurrently.
// Usage: node bench/services.js [--seconds S] [--json]
import {spawn, spawnSync} from 'node:child_process'
import {generateKeyPairSync, sign} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {Agent, request} from 'node:http'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const args = process.argv.slice(2)
const seconds = args.includes('--seconds') ? Number(args[args.indexOf('--seconds') + 1]) : 3
const asJson = args.includes('--json')
const work = mkdtempSync(join(tmpdir(), 'bench-svc-'))
const children = []
const spawnBg = (cmd, argv, env = {}) => {
  const c = spawn(cmd, argv, {cwd: work, env: {...process.env, HOME: work, ...env}, stdio: ['ignore', 'ignore', 'pipe']})
  c.stderr.resume()
  children.push(c)
  return c
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
const waitFor = async (cond, ms = 15000) => {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timeout waiting for a service')
    await new Promise((r) => setTimeout(r, 20))
  }
}

function call(opts) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint()
    const req = request(opts, (res) => {
      res.resume()
      res.on('end', () => resolve({status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6}))
    })
    req.on('error', () => resolve({status: 0, ms: Number(process.hrtime.bigint() - t0) / 1e6}))
    req.end(opts.body)
  })
}

/** `concurrency` workers issuing requests back to back for `seconds`. */
async function load(opts, concurrency, secs) {
  const agent = new Agent({keepAlive: true, maxSockets: concurrency})
  const lat = []
  let errors = 0
  const end = Date.now() + secs * 1000
  await Promise.all(
    Array.from({length: concurrency}, async () => {
      while (Date.now() < end) {
        const r = await call({...opts, agent})
        if (r.status !== 200) errors++
        lat.push(r.ms)
      }
    }),
  )
  agent.destroy()
  return {rps: lat.length / secs, p50: pct(lat, 50), p99: pct(lat, 99), errors}
}

try {
  // ---- (1) verifier, cached path
  const lib = (p) => import(pathToFileURL(join(root, 'dist', 'lib', p)).href)
  const {createInnermostToken} = await lib('bundle/token.js')
  spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'ca.key'), '-out', join(work, 'bundle.pem'), '-days', '1', '-subj', '/O=SPIFFE', '-addext', 'subjectAltName=URI:spiffe://example.org'], {stdio: 'ignore'})
  const bundle = readFileSync(join(work, 'bundle.pem'), 'utf8')
  const {privateKey, publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
  mkdirSync(join(work, 'keys'))
  writeFileSync(join(work, 'keys', 'a.pem'), publicKey.export({type: 'spki', format: 'pem'}))
  writeFileSync(join(work, 'a.key'), privateKey.export({type: 'pkcs8', format: 'pem'}))
  const signer = {algorithm: 'RS256', description: 'a', sign: async (d) => sign('sha256', d, privateKey)}
  writeFileSync(join(work, 'token'), await createInnermostToken(bundle, {signer, ttlMs: 3600_000}))
  const vsock = join(work, 'verifier.sock')
  writeFileSync(join(work, 'verifier.conf'), `keydir: keys\nsocket: ${vsock}\nkeyset:\n  main:\n    url: ${join(work, 'token')}\n    chain: [a.pem]\n`)
  spawnBg(process.execPath, [bin, 'verifier', 'serve', '--config', 'verifier.conf'], {TRUSTCTL_LOG_LEVEL: 'error'})
  await waitFor(() => existsSync(vsock))
  const bsock = join(work, 'bare.sock')
  writeFileSync(join(work, 'bare.mjs'), `import {createServer} from 'node:http'\nimport {readFileSync} from 'node:fs'\nconst body = readFileSync(${JSON.stringify(join(work, 'bundle.pem'))})\ncreateServer((req, res) => { res.writeHead(200, {'content-type': 'application/x-pem-file', 'content-length': body.length, 'cache-control': 'no-store'}); res.end(body) }).listen(${JSON.stringify(bsock)})\n`)
  spawnBg(process.execPath, [join(work, 'bare.mjs')])
  await waitFor(() => existsSync(bsock))
  const path = '/trustbundle?instance=main'
  await call({socketPath: vsock, path}) // fill the cache
  await load({socketPath: vsock, path}, 64, 1) // warm-up both
  await load({socketPath: bsock, path}, 64, 1)
  const verifier = await load({socketPath: vsock, path}, 64, seconds)
  const bare = await load({socketPath: bsock, path}, 64, seconds)

  // ---- (2) signer http under a flood of invalid requests
  const swtpmDir = join(work, 'tpm')
  mkdirSync(swtpmDir)
  const tsock = join(swtpmDir, 'sock')
  spawnBg('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${swtpmDir}`, '--server', `type=unixio,path=${tsock}`, '--ctrl', `type=unixio,path=${tsock}.ctrl`, '--flags', 'not-need-init,startup-clear', '--log', `file=${join(swtpmDir, 'log')}`])
  await waitFor(() => existsSync(`${tsock}.ctrl`) && existsSync(tsock))
  const tcti = `swtpm:path=${tsock}`
  if (spawnSync(process.execPath, [bin, 'tpm', 'provision', '--tcti', tcti], {cwd: work, env: {...process.env, HOME: work}}).status !== 0) throw new Error('provision failed')
  const usock = join(work, 'unix.sock')
  writeFileSync(join(work, 'signer-unix.conf'), `socket: ${usock}\ntpm-address: 0x81008006\nduration: 10m\ndir: www\n`)
  spawnBg(process.execPath, [bin, 'signer', 'unix', '--config', 'signer-unix.conf', '--tcti', tcti], {TRUSTCTL_LOG_LEVEL: 'error'})
  await waitFor(() => existsSync(usock))
  const port = 20000 + Math.floor(Math.random() * 20000)
  writeFileSync(join(work, 'signer-http.conf'), `socket: ${usock}\nkeydir: keys\nprimary: a.pem\nlisten-addr: "127.0.0.1:${port}"\nallowed-addrs: [127.0.0.1]\n`)
  spawnBg(process.execPath, [bin, 'signer', 'http', '--config', 'signer-http.conf'], {TRUSTCTL_LOG_LEVEL: 'error'})
  await waitFor(async () => (await call({host: '127.0.0.1', port, path: '/healthz'})).status === 200)
  const valid = readFileSync(join(work, 'token'), 'utf8')
  const {privateKey: other} = generateKeyPairSync('rsa', {modulusLength: 2048})
  const forged = await createInnermostToken(bundle, {signer: {algorithm: 'RS256', description: 'x', sign: async (d) => sign('sha256', d, other)}, ttlMs: 3600_000})
  const post = (body) => ({host: '127.0.0.1', port, method: 'POST', path: '/sign', headers: {'content-type': 'application/jwt', 'content-length': Buffer.byteLength(body)}, body})
  const validRun = async (n) => {
    const lat = []
    for (let i = 0; i < n; i++) {
      const r = await call(post(valid))
      if (r.status !== 200) throw new Error(`valid request answered ${r.status}`)
      lat.push(r.ms)
    }
    return {p50: pct(lat, 50), p99: pct(lat, 99), n}
  }
  await validRun(20)
  const quiet = await validRun(300)
  // The flood runs in its own process, so its work does not delay the measuring client.
  writeFileSync(join(work, 'forged.jwt'), forged)
  writeFileSync(
    join(work, 'flood.mjs'),
    `import {Agent, request} from 'node:http'
import {readFileSync} from 'node:fs'
const forged = readFileSync(${JSON.stringify(join(work, 'forged.jwt'))}, 'utf8')
const oversize = 'x'.repeat(2 * 1024 * 1024)
const agent = new Agent({keepAlive: false, maxSockets: 64})
const queue = Array.from({length: 1000}, (_, i) => (i % 2 ? forged : oversize))
let rejected = 0
const one = (body) => new Promise((resolve) => {
  const req = request({host: '127.0.0.1', port: ${port}, method: 'POST', path: '/sign', agent, headers: {'content-type': 'application/jwt', 'content-length': Buffer.byteLength(body)}}, (res) => {
    res.resume()
    res.on('end', () => resolve(res.statusCode))
  })
  req.on('error', () => resolve(0))
  req.end(body)
})
process.stdout.write('start\\n')
await Promise.all(Array.from({length: 64}, async () => {
  for (let b = queue.pop(); b !== undefined; b = queue.pop()) {
    const status = await one(b)
    if (status === 400 || status === 413 || status === 0) rejected++
  }
}))
process.stdout.write(String(rejected) + '\\n')
`,
  )
  const floodProc = spawn(process.execPath, [join(work, 'flood.mjs')], {stdio: ['ignore', 'pipe', 'inherit']})
  children.push(floodProc)
  let floodOut = ''
  floodProc.stdout.setEncoding('utf8').on('data', (d) => (floodOut += d))
  const floodDone = new Promise((r) => floodProc.on('close', r))
  await waitFor(() => floodOut.includes('start'))
  const underFlood = await validRun(300)
  await floodDone
  const rejected = Number(floodOut.trim().split('\n').pop())
  const floodBodies = {length: 1000}
  const result = {
    verifier: {concurrency: 64, seconds, trustctl: verifier, bareNode: bare, throughputRatio: Number((verifier.rps / bare.rps).toFixed(2)), targets: 'ratio >= 0.7, p99 < 10 ms'},
    signerHttp: {validAlone: quiet, validUnderFlood: underFlood, floodRequests: floodBodies.length, floodRejected: rejected, p99Ratio: Number((underFlood.p99 / quiet.p99).toFixed(2))},
  }
  if (asJson) console.log(JSON.stringify(result, null, 2))
  else {
    const f = (x) => x.toFixed(2)
    console.log(`services benchmark, node ${process.version}`)
    console.log(`(1) verifier serve (cached) at concurrency 64 for ${seconds} s: ${Math.round(verifier.rps)} req/s, p50 ${f(verifier.p50)} ms, p99 ${f(verifier.p99)} ms (${verifier.errors} errors)`)
    console.log(`    bare node:http on a unix socket:          ${Math.round(bare.rps)} req/s, p50 ${f(bare.p50)} ms, p99 ${f(bare.p99)} ms`)
    console.log(`    throughput ratio ${result.verifier.throughputRatio} (target >= 0.7: ${result.verifier.throughputRatio >= 0.7 ? 'ok' : 'MISSED'}); p99 < 10 ms: ${verifier.p99 < 10 ? 'ok' : 'MISSED'}`)
    console.log(`(2) signer http, ${quiet.n} sequential valid /sign requests (TPM-signed through signer unix):`)
    console.log(`    alone: p50 ${f(quiet.p50)} ms, p99 ${f(quiet.p99)} ms; during 1000 invalid-signature and oversize requests (${rejected} rejected): p50 ${f(underFlood.p50)} ms, p99 ${f(underFlood.p99)} ms (x${result.signerHttp.p99Ratio})`)
  }
} finally {
  for (const c of children) c.kill('SIGTERM')
  await new Promise((r) => setTimeout(r, 300))
  for (const c of children) c.kill('SIGKILL')
  rmSync(work, {recursive: true, force: true})
}
