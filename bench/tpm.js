#!/usr/bin/env node
// TPM benchmark, on fresh software TPMs (swtpm), everything measured in this one run:
// (1) `trustctl tpm provision` against the plain tpm2-tools sequence run as a shell script
//     (bench/provision-baseline.sh): median wall time of N interleaved runs each, one fresh swtpm
//     per run. Target: ratio <= 1.3. RSA key generation dominates and varies a lot, hence medians.
// (2) signatures per second of TpmSigner in one process against a bash loop of `tpm2_sign -d`,
//     each for a fixed time on the same provisioned swtpm. Target: ratio >= 0.9.
// Usage: node bench/tpm.js [--runs N] [--seconds S] [--json]   (after npm run build)
import {spawn, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt)
const runs = opt('--runs', 11)
const seconds = opt('--seconds', 3)
const asJson = args.includes('--json')

async function startSwtpm() {
  const dir = mkdtempSync(join(tmpdir(), 'swtpm-'))
  const sock = join(dir, 'sock')
  const child = spawn('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${dir}`, '--server', `type=unixio,path=${sock}`, '--ctrl', `type=unixio,path=${sock}.ctrl`, '--flags', 'not-need-init,startup-clear', '--log', `file=${join(dir, 'log')}`, '--pid', `file=${join(dir, 'pid')}`], {stdio: 'ignore'})
  const closed = new Promise((r) => child.on('close', r))
  for (let i = 0; i < 5000 && !(existsSync(join(dir, 'pid')) && readFileSync(join(dir, 'pid'), 'utf8').trim() === String(child.pid)); i++) await new Promise((r) => setTimeout(r, 1))
  return {
    tcti: `swtpm:path=${sock}`,
    async stop() {
      child.kill('SIGTERM')
      await closed
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

function timed(cmd, argv, env) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(cmd, argv, {env: {...process.env, ...env}, stdio: ['ignore', 'ignore', 'pipe']})
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr}`)
  return Number(process.hrtime.bigint() - t0) / 1e6
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

// (1) provisioning
const tTrustctl = []
const tScript = []
for (let i = 0; i < runs; i++) {
  for (const which of i % 2 ? ['script', 'trustctl'] : ['trustctl', 'script']) {
    const tpm = await startSwtpm()
    try {
      if (which === 'trustctl') tTrustctl.push(timed(process.execPath, [join(root, 'bin', 'run.js'), 'tpm', 'provision', '--tcti', tpm.tcti], {}))
      else tScript.push(timed('bash', [join(root, 'bench', 'provision-baseline.sh')], {TPM2TOOLS_TCTI: tpm.tcti}))
    } finally {
      await tpm.stop()
    }
  }
}

// (2) signing throughput on one provisioned TPM
const tpm = await startSwtpm()
let sigTrustctl
let sigShell
try {
  timed(process.execPath, [join(root, 'bin', 'run.js'), 'tpm', 'provision', '--tcti', tpm.tcti], {})
  const {TpmSigner} = await import(pathToFileURL(join(root, 'dist', 'lib', 'tpm', 'signer.js')).href)
  const signer = new TpmSigner({tcti: tpm.tcti, timeoutMs: 10_000})
  const digest = createHash('sha256').update('bench').digest()
  await signer.signDigest(digest) // warm-up
  let n = 0
  const end = Date.now() + seconds * 1000
  const t0 = Date.now()
  while (Date.now() < end) {
    await signer.signDigest(digest)
    n++
  }
  sigTrustctl = n / ((Date.now() - t0) / 1000)
  const work = mkdtempSync(join(tmpdir(), 'bench-sign-'))
  const loop = `head -c 32 /dev/zero > d.bin; n=0; end=$(( $(date +%s%N) + ${seconds} * 1000000000 )); start=$(date +%s%N)
while [ "$(date +%s%N)" -lt "$end" ]; do tpm2_sign -c 0x81008006 -g sha256 -s rsassa -d -f plain -o s.bin d.bin; n=$((n+1)); done
echo "$n $(( $(date +%s%N) - start ))"`
  const r = spawnSync('bash', ['-c', loop], {cwd: work, env: {...process.env, TPM2TOOLS_TCTI: tpm.tcti}, encoding: 'utf8'})
  rmSync(work, {recursive: true, force: true})
  const [count, ns] = r.stdout.trim().split(' ').map(Number)
  sigShell = count / (ns / 1e9)
} finally {
  await tpm.stop()
}

const result = {
  runs,
  seconds,
  provision: {
    trustctlMedianMs: Number(median(tTrustctl).toFixed(1)),
    scriptMedianMs: Number(median(tScript).toFixed(1)),
    ratio: Number((median(tTrustctl) / median(tScript)).toFixed(2)),
    target: '<= 1.3',
  },
  signing: {
    trustctlPerSecond: Number(sigTrustctl.toFixed(1)),
    shellLoopPerSecond: Number(sigShell.toFixed(1)),
    ratio: Number((sigTrustctl / sigShell).toFixed(2)),
    target: '>= 0.9',
  },
}
if (asJson) console.log(JSON.stringify(result, null, 2))
else {
  const p = result.provision
  const s = result.signing
  console.log(`tpm benchmark on fresh swtpms, node ${process.version}`)
  console.log(`(1) provision, median of ${runs} runs each: trustctl ${p.trustctlMedianMs} ms, tpm2-tools script ${p.scriptMedianMs} ms -> ratio ${p.ratio} (target <= 1.3: ${p.ratio <= 1.3 ? 'ok' : 'MISSED'})`)
  console.log(`(2) signatures/s over ${seconds} s: TpmSigner ${s.trustctlPerSecond}, bash loop of tpm2_sign ${s.shellLoopPerSecond} -> ratio ${s.ratio} (target >= 0.9: ${s.ratio >= 0.9 ? 'ok' : 'MISSED'})`)
}
