import {Flags} from '@oclif/core'

import {BaseCommand, settingBooleanFlag, settingFlag} from '../../base-command.js'
import {fileErrorFrom, ProcessError, UsageError} from '../../lib/core/errors.js'
import {runProcess} from '../../lib/core/subprocess.js'
import {parseDuration} from '../../lib/core/values.js'
import {loadPublicKey} from '../../lib/bundle/keys.js'
import {bundleDigest, publishOnce, type PublishOptions} from '../../lib/services/publisher.js'

const DEFAULT_SOCKET = '/var/run/spire/server-attestor-tpm/signer-unix.sock'

export default class BundlePublish extends BaseCommand<typeof BundlePublish> {
  static override summary = 'Sign the trust bundle locally and through remote signers, then publish it (the reference publisher)'
  static override description = `One round: sign the PEM bundle through the local signer-unix socket, then through each --url (a
remote signer-http, in order; each adds a layer), then POST the token to signer-unix /publish; the
token is printed. --from-spire reads the bundle with "spire-server bundle show -format pem".

With --watch it keeps running: it re-publishes when the bundle changes or when --frequency (5m) has
passed since the last publication, retries failures with backoff, and logs each publication. With
--verify-chain (repeated, innermost first) a token that does not verify is never published.`

  static override examples = [
    'spire-server bundle show -format pem | <%= config.bin %> <%= command.id %> --bundle - --url http://10.0.0.2:8181/sign',
    '<%= config.bin %> <%= command.id %> --from-spire --url https://server-b:8181/sign --watch --frequency 5m --verify-chain keys/a.pem --verify-chain keys/b.pem',
  ]

  static override flags = {
    bundle: Flags.string({summary: 'PEM bundle file, or - for stdin', exclusive: ['from-spire']}),
    'from-spire': Flags.boolean({summary: 'read the bundle with spire-server bundle show -format pem'}),
    'spire-server': Flags.string({summary: 'path of the spire-server binary (default: spire-server on PATH)'}),
    socket: Flags.string({summary: `signer-unix socket (default ${DEFAULT_SOCKET})`}),
    url: Flags.string({summary: 'remote signer-http /sign URL (repeatable, in order)', multiple: true}),
    watch: Flags.boolean({summary: 'keep running and re-publish on change and every --frequency'}),
    frequency: Flags.string({summary: 'with --watch: re-publish at least this often (default 5m)'}),
    'verify-chain': Flags.string({summary: 'public key of the expected chain, innermost first (repeatable): never publish a token that does not verify', multiple: true}),
    'ca-file': settingFlag('ca-file'),
    insecure: settingBooleanFlag('insecure'),
    timeout: settingFlag('timeout'),
  }

  async run(): Promise<{token: string} | {stopped: true; publications: number}> {
    const {flags} = this
    if (!flags.bundle && !flags['from-spire']) throw new UsageError('MISSING_FLAG', 'no bundle to publish', {suggestions: ['pass --bundle FILE|- or --from-spire']})
    if (flags.watch && flags.bundle === '-') throw new UsageError('INVALID_VALUE', '--watch needs a bundle it can read again: --bundle FILE or --from-spire')
    const opts: PublishOptions = {
      socket: flags.socket ?? DEFAULT_SOCKET,
      urls: flags.url ?? [],
      logger: this.logger,
      caFile: this.settings.string('ca-file'),
      insecure: this.settings.boolean('insecure'),
      timeoutMs: this.settings.duration('timeout'),
      ...(flags['verify-chain'] ? {verifyChain: {chain: await Promise.all(flags['verify-chain'].map((f) => loadPublicKey(f)))}} : {}),
    }
    const readBundle = async (): Promise<string> => {
      if (flags['from-spire']) {
        const r = await runProcess(flags['spire-server'] ?? 'spire-server', ['bundle', 'show', '-format', 'pem'], {timeoutMs: 30_000, installHint: 'install spire-server, or pass --spire-server PATH'})
        if (r.exitCode !== 0) {
          const last = r.stderr.trim().split('\n').pop()
          throw new ProcessError('TOOL_FAILED', `spire-server bundle show failed: ${last || `exit code ${r.exitCode}`}`, {suggestions: ['is the SPIRE server running, and is this user allowed on its socket?']})
        }
        return r.stdout.toString('utf8')
      }
      const {readFile} = await import('node:fs/promises')
      try {
        if (flags.bundle !== '-') return await readFile(flags.bundle as string, 'utf8')
        const chunks: Buffer[] = []
        for await (const c of process.stdin) chunks.push(c as Buffer)
        return Buffer.concat(chunks).toString('utf8')
      } catch (err) {
        throw fileErrorFrom(err, flags.bundle as string, 'read the bundle')
      }
    }
    if (!flags.watch) {
      const token = await publishOnce(await readBundle(), opts)
      this.print(token)
      return {token}
    }
    if (!process.env.TRUSTCTL_LOG_LEVEL) this.logger.level = 'info'
    const frequencyMs = parseDuration(flags.frequency ?? '5m', '--frequency')
    if (frequencyMs < 1000) throw new UsageError('INVALID_VALUE', `--frequency: ${flags.frequency} is too short; at least 1s`)
    return this.watch(readBundle, opts, frequencyMs)
  }

  private async watch(readBundle: () => Promise<string>, opts: PublishOptions, frequencyMs: number): Promise<{stopped: true; publications: number}> {
    let stopped = false
    let wake: (() => void) | undefined
    const stop = () => {
      stopped = true
      wake?.()
    }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
    const sleep = (ms: number) => new Promise<void>((r) => {
      const t = setTimeout(r, ms)
      wake = () => {
        clearTimeout(t)
        r()
      }
    })
    let lastDigest = ''
    let lastPublished = 0
    let failures = 0
    let publications = 0
    const pollMs = Math.min(frequencyMs, 10_000)
    while (!stopped) {
      try {
        const pem = await readBundle()
        const digest = bundleDigest(pem)
        const due = digest !== lastDigest || Date.now() - lastPublished >= frequencyMs
        if (due) {
          await publishOnce(pem, opts)
          publications++
          this.logger.info(`publisher: published (${digest === lastDigest ? 'refresh' : 'bundle changed'}; sha256 ${digest.slice(0, 12)})`)
          lastDigest = digest
          lastPublished = Date.now()
          failures = 0
        }
        await sleep(pollMs)
      } catch (err) {
        failures++
        const backoff = Math.min(frequencyMs, 1000 * 2 ** Math.min(failures - 1, 10))
        this.logger.warn(`publisher: attempt failed (${failures} in a row), retrying in ${Math.round(backoff / 1000)} s: ${(err as Error).message}`)
        await sleep(backoff)
      }
    }
    this.logger.info(`publisher: stopped after ${publications} publication(s)`)
    return {stopped: true, publications}
  }
}
