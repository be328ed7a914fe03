#!/usr/bin/env node
// CipherTrust listing benchmark against the local emulator (after npm run build), in one run:
// listing 10,000 keys through CtmClient.list (login, paging, error handling) against raw sequential
// page fetches with got (same page size, same token), medians of R rounds; target ratio <= 1.2.
// The client's peak memory is measured in a separate process (RSS high-water mark).
// Usage: node bench/ctm.js [--keys N] [--rounds R] [--json]
import {spawn} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const opt = (n, d) => (args.includes(n) ? Number(args[args.indexOf(n) + 1]) : d)
const N = opt('--keys', 10_000)
const rounds = opt('--rounds', 11)
const asJson = args.includes('--json')
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]

if (args.includes('--child')) {
  // Memory probe: one full listing through the client in a fresh process.
  const url = args[args.indexOf('--url') + 1]
  const {CtmClient} = await import(pathToFileURL(join(root, 'dist', 'lib', 'ciphertrust', 'client.js')).href)
  const c = await CtmClient.connect({url, username: 'admin', password: 'admin'})
  await c.login()
  const keys = await c.list('/api/v1/vault/keys2', 'keys')
  console.log(JSON.stringify({count: keys.length, maxRssMiB: Number((process.resourceUsage().maxRSS / 1024).toFixed(1))}))
  process.exit(0)
}

const {startEmulator} = await import(pathToFileURL(join(root, 'test', 'emulators', 'ciphertrust', 'server.js')).href)
const {CtmClient} = await import(pathToFileURL(join(root, 'dist', 'lib', 'ciphertrust', 'client.js')).href)
const got = (await import('got')).default
const emu = await startEmulator({users: [{username: 'admin', password: 'admin'}]})
try {
  emu.seedKeys(N, (i) => ({name: `bench-key-${i}`, labels: {n: String(i % 7)}}))
  const client = await CtmClient.connect({url: emu.url, username: 'admin', password: 'admin', pageSize: 500})
  const token = await client.login()
  const raw = async () => {
    let n = 0
    for (let skip = 0; ; ) {
      const page = await got(`${emu.url}/api/v1/vault/keys2`, {searchParams: {skip, limit: 500}, headers: {authorization: `Bearer ${token.jwt}`}}).json()
      n += page.resources.length
      skip += page.resources.length
      if (page.resources.length < 500 || skip >= page.total) return n
    }
  }
  const ours = async () => (await client.list('/api/v1/vault/keys2', 'keys')).length
  await raw()
  await ours()
  const tRaw = []
  const tOurs = []
  for (let r = 0; r < rounds; r++) {
    for (const [fn, arr] of r % 2 ? [[raw, tRaw], [ours, tOurs]] : [[ours, tOurs], [raw, tRaw]]) {
      const t0 = process.hrtime.bigint()
      const n = await fn()
      arr.push(Number(process.hrtime.bigint() - t0) / 1e6)
      if (n !== N) throw new Error(`listed ${n} keys, expected ${N}`)
    }
  }
  // Async: the emulator runs in this process and must keep answering the probe.
  const probeOut = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', '--url', emu.url], {stdio: ['ignore', 'pipe', 'inherit']})
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d))
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`memory probe exited ${code}`))))
  })
  const probe = JSON.parse(probeOut.trim().split('\n').pop())
  const result = {keys: N, rounds, pageSize: 500, clientMs: Number(median(tOurs).toFixed(1)), rawGotMs: Number(median(tRaw).toFixed(1)), ratio: Number((median(tOurs) / median(tRaw)).toFixed(2)), target: '<= 1.2', clientPeakRssMiB: probe.maxRssMiB}
  if (asJson) console.log(JSON.stringify(result, null, 2))
  else {
    console.log(`ctm listing benchmark, node ${process.version}, emulator on 127.0.0.1`)
    console.log(`${N} keys, page size 500, medians of ${rounds}: CtmClient.list ${result.clientMs} ms, raw got pages ${result.rawGotMs} ms -> ratio ${result.ratio} (target <= 1.2: ${result.ratio <= 1.2 ? 'ok' : 'MISSED'})`)
    console.log(`client process peak RSS while listing ${probe.count} keys: ${probe.maxRssMiB} MiB`)
  }
} finally {
  await emu.stop()
}
