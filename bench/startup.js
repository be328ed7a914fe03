#!/usr/bin/env node
// Startup benchmark: median wall time of trustctl commands against `node -e 0` measured in the same
// run, printed as ratios. Runs are interleaved (one of each per round) so machine noise hits every
// command alike. Two environments: the inherited one (as a user or CI runs trustctl; what hyperfine
// does) and a stripped one (PATH and HOME only). Variables such as NODE_EXTRA_CA_CERTS add a fixed
// cost to every node start, which lowers the ratios; the stripped run shows the worst case.
// Usage: node bench/startup.js [--runs N] [--json]
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const args = process.argv.slice(2)
const runs = Math.max(10, Number(args[args.indexOf('--runs') + 1]) || 15)
const asJson = args.includes('--json')

const work = mkdtempSync(join(tmpdir(), 'trustctl-bench-'))
const meta = join(work, 'meta')
writeFileSync(meta, 'f2554a90-8ce7-4d73-9788-cf842e31c4ef', {mode: 0o600})
const environments = [
  {name: 'inherited environment', env: {...process.env, HOME: work}},
  {name: 'stripped environment (PATH, HOME only)', env: {PATH: process.env.PATH, HOME: work}},
]

const cases = [
  {name: 'node -e 0', argv: ['-e', '0']},
  {name: 'trustctl --version', argv: [bin, '--version'], target: 2.0},
  {name: 'trustctl --help', argv: [bin, '--help'], target: 2.2},
  {name: 'trustctl metadata show', argv: [bin, 'metadata', 'show', '--file', meta], target: 2.5},
]

function once(c, env) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, c.argv, {cwd: work, env, stdio: ['ignore', 'pipe', 'pipe']})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}: ${r.stderr}`)
  return ms
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function measure(env) {
  for (const c of cases) for (let i = 0; i < 3; i++) once(c, env) // warm-up: file cache, node itself
  const times = cases.map(() => [])
  for (let r = 0; r < runs; r++) cases.forEach((c, i) => times[i].push(once(c, env)))
  const base = median(times[0])
  return cases.map((c, i) => {
    const med = median(times[i])
    const ratio = med / base
    return {command: c.name, medianMs: Number(med.toFixed(1)), minMs: Number(Math.min(...times[i]).toFixed(1)), ratio: Number(ratio.toFixed(2)), target: c.target ?? null, ok: c.target ? ratio <= c.target : null}
  })
}

try {
  const results = environments.map((e) => ({environment: e.name, rows: measure(e.env)}))
  if (asJson) {
    console.log(JSON.stringify({runs, node: process.version, results}, null, 2))
  } else {
    console.log(`startup: median of ${runs} interleaved runs each after 3 warm-up runs, node ${process.version}`)
    for (const {environment, rows} of results) {
      console.log(`\n${environment}`)
      console.log(`${'command'.padEnd(26)} ${'median'.padStart(9)} ${'min'.padStart(9)} ${'ratio'.padStart(7)}  target`)
      for (const r of rows) {
        console.log(`${r.command.padEnd(26)} ${`${r.medianMs} ms`.padStart(9)} ${`${r.minMs} ms`.padStart(9)} ${`${r.ratio}x`.padStart(7)}  ${r.target ? `<= ${r.target}x ${r.ok ? 'ok' : 'MISSED'}` : 'baseline'}`)
      }
    }
  }
} finally {
  rmSync(work, {recursive: true, force: true})
}
