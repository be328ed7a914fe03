#!/usr/bin/env node
// Token verification benchmark, all measured in this one run (after npm run build):
// (1) verifying a 3-layer RS256 token N times in one process (verifyToken: decoding, header and
//     claim checks, 3 signatures, the bundle's certificate) against 3N raw crypto.verify calls with
//     the same keys and signing inputs. Printed as a throughput ratio; target >= 0.8.
// (2) `trustctl bundle verify` of a file token, started from the shell, against `node -e 0`: medians
//     of interleaved runs, in the inherited environment and in one stripped to PATH and HOME.
//     Target <= 2.5x.
// Usage: node bench/verify.js [--n N] [--runs R] [--json]
import {spawnSync} from 'node:child_process'
import {generateKeyPairSync, sign, verify} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt)
const N = opt('--n', 3000)
const runs = opt('--runs', 15)
const asJson = args.includes('--json')
const lib = (p) => import(pathToFileURL(join(root, 'dist', 'lib', p)).href)
const {verifyToken} = await lib('bundle/verify.js')
const {createInnermostToken, createNestedToken} = await lib('bundle/token.js')
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

// A real SPIRE-sized bundle: one self-signed CA certificate made with openssl.
const work = mkdtempSync(join(tmpdir(), 'bench-verify-'))
try {
  spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'ca.key'), '-out', join(work, 'bundle.pem'), '-days', '1', '-subj', '/C=US/O=SPIFFE', '-addext', 'subjectAltName=URI:spiffe://example.org'], {stdio: 'ignore'})
  const {readFileSync} = await import('node:fs')
  const bundle = readFileSync(join(work, 'bundle.pem'), 'utf8')
  const keys = [0, 1, 2].map((i) => {
    const {privateKey, publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
    return {name: `k${i}.pem`, privateKey, publicKey}
  })
  const signer = (k) => ({algorithm: 'RS256', description: k.name, sign: async (d) => sign('sha256', d, k.privateKey)})
  let token = await createInnermostToken(bundle, {signer: signer(keys[0]), ttlMs: 3600_000})
  token = await createNestedToken(token, {signer: signer(keys[1]), ttlMs: 3600_000})
  token = await createNestedToken(token, {signer: signer(keys[2]), ttlMs: 3600_000})
  const keyset = {chain: keys.map((k) => ({name: k.name, path: k.name, key: k.publicKey, alg: 'RS256'}))}

  // The raw baseline: the same three signing inputs and signatures, verified with crypto.verify.
  const layers = []
  let t = token
  for (let i = 2; i >= 0; i--) {
    const [h, p, s] = t.split('.')
    layers.push({input: Buffer.from(`${h}.${p}`), sig: Buffer.from(s, 'base64url'), key: keys[i].publicKey})
    t = JSON.parse(Buffer.from(p, 'base64url')).jwt
  }
  const rounds = []
  for (let round = 0; round < 5; round++) {
    let t0 = process.hrtime.bigint()
    for (let i = 0; i < N; i++) verifyToken(token, keyset)
    const ours = Number(process.hrtime.bigint() - t0) / 1e6
    t0 = process.hrtime.bigint()
    for (let i = 0; i < N; i++) for (const l of layers) if (!verify('sha256', l.input, l.key, l.sig)) throw new Error('raw verify failed')
    const raw = Number(process.hrtime.bigint() - t0) / 1e6
    rounds.push({ours, raw})
  }
  const oursMs = median(rounds.map((r) => r.ours))
  const rawMs = median(rounds.map((r) => r.raw))
  const inProcess = {n: N, tokenBytes: token.length, verifyTokenMs: Number(oursMs.toFixed(1)), rawVerifyMs: Number(rawMs.toFixed(1)), perTokenUs: Number(((oursMs / N) * 1000).toFixed(1)), ratio: Number((rawMs / oursMs).toFixed(2)), target: '>= 0.8'}

  // (2) the CLI from the shell
  writeFileSync(join(work, 'token.jwt'), token)
  for (const k of keys) writeFileSync(join(work, k.name), k.publicKey.export({type: 'spki', format: 'pem'}))
  const cli = [join(root, 'bin', 'run.js'), 'bundle', 'verify', '--chain', 'k0.pem', '--chain', 'k1.pem', '--chain', 'k2.pem', '--token', 'token.jwt']
  const time = (argv, env) => {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(process.execPath, argv, {cwd: work, env, stdio: ['ignore', 'pipe', 'pipe']})
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`)
    return Number(process.hrtime.bigint() - t0) / 1e6
  }
  const shell = []
  for (const [name, env] of [['inherited environment', {...process.env, HOME: work}], ['stripped environment (PATH, HOME only)', {PATH: process.env.PATH, HOME: work}]]) {
    for (let i = 0; i < 3; i++) {
      time(['-e', '0'], env) // warm-up
      time(cli, env)
    }
    const base = []
    const ours = []
    for (let i = 0; i < runs; i++) {
      base.push(time(['-e', '0'], env))
      ours.push(time(cli, env))
    }
    shell.push({environment: name, nodeMs: Number(median(base).toFixed(1)), trustctlMs: Number(median(ours).toFixed(1)), ratio: Number((median(ours) / median(base)).toFixed(2)), target: '<= 2.5'})
  }
  const result = {inProcess, shell}
  if (asJson) console.log(JSON.stringify(result, null, 2))
  else {
    console.log(`verify benchmark, node ${process.version}`)
    console.log(`(1) ${N} verifications of a 3-layer RS256 token (${token.length} bytes): verifyToken ${inProcess.verifyTokenMs} ms (${inProcess.perTokenUs} us each), ${3 * N} raw crypto.verify ${inProcess.rawVerifyMs} ms -> throughput ratio ${inProcess.ratio} (target >= 0.8: ${inProcess.ratio >= 0.8 ? 'ok' : 'MISSED'}); medians of 5 rounds`)
    for (const s of shell) console.log(`(2) ${s.environment}: trustctl bundle verify ${s.trustctlMs} ms vs node -e 0 ${s.nodeMs} ms -> ${s.ratio}x (target <= 2.5: ${s.ratio <= 2.5 ? 'ok' : 'MISSED'}); medians of ${runs}`)
  }
} finally {
  rmSync(work, {recursive: true, force: true})
}
