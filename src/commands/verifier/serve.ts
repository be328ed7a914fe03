import {Flags} from '@oclif/core'

import {BaseCommand, settingBooleanFlag, settingFlag} from '../../base-command.js'
import {UsageError} from '../../lib/core/errors.js'
import {loadVerifierConfig} from '../../lib/bundle/keyset-config.js'
import {stopOnSignals} from '../../lib/services/listen.js'
import {startVerifier} from '../../lib/services/verifier-server.js'

export default class VerifierServe extends BaseCommand<typeof VerifierServe> {
  static override summary = 'Serve verified trust bundles to the SPIRE agent (drop-in for spire-server-attestor-tpm-verifier)'
  static override description = `Reads the reference's verifier.conf unchanged (keydir, socket, keyset: url, chain, backup) with its
start-up validation. GET /trustbundle?instance=NAME on the unix socket answers:
  200  the verified PEM bundle
  400  no instance parameter
  404  unknown instance (keyset)
  422  the token does not verify (signature, expiry, depth, ...)
  502  the token source cannot be read
A verified bundle is kept until 30 s before its token's earliest exp, then fetched and verified again.
The command-line mode is "trustctl bundle verify --config FILE --keyset NAME".`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --config /etc/spire/server-attestor-tpm/verifier.conf',
    'curl --unix-socket /var/run/spire/server-attestor-tpm/verifier.sock "http://localhost/trustbundle?instance=main"',
  ]

  static override flags = {
    config: Flags.string({summary: 'verifier.conf (the reference format)', required: true}),
    socket: Flags.string({summary: 'unix socket to listen on (default: socket in the config)'}),
    'ca-file': settingFlag('ca-file'),
    insecure: settingBooleanFlag('insecure'),
    timeout: settingFlag('timeout'),
  }

  static override ownsConfigFlag = true

  async run(): Promise<{stopped: true}> {
    if (!process.env.TRUSTCTL_LOG_LEVEL) this.logger.level = 'info'
    const cfg = await loadVerifierConfig(this.flags.config as string)
    const socket = this.flags.socket ?? cfg.socket
    if (!socket) throw new UsageError('MISSING_FLAG', `${cfg.path} has no socket and --socket was not given`, {suggestions: ['add "socket: /var/run/spire/server-attestor-tpm/verifier.sock" to the config']})
    const server = await startVerifier(cfg, {socket, logger: this.logger, caFile: this.settings.string('ca-file'), insecure: this.settings.boolean('insecure'), timeoutMs: this.settings.duration('timeout')})
    this.logger.info(`verifier: listening on ${socket}; instances ${[...cfg.keysets.keys()].join(', ')}`)
    await new Promise<void>((resolve) => stopOnSignals(server, {socketPath: socket, onStopped: resolve, log: (m) => this.logger.info(`verifier: ${m}`)}))
    this.logger.info('verifier: stopped')
    return {stopped: true}
  }
}
