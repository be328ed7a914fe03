import {Flags} from '@oclif/core'

import {BaseCommand, settingFlag} from '../../base-command.js'
import {loadSignerUnixConfig} from '../../lib/services/config.js'
import {stopOnSignals} from '../../lib/services/listen.js'
import {startSignerUnix} from '../../lib/services/signer-unix.js'
import {tpmOptions} from '../../lib/tpm/options.js'
import {TpmSigner} from '../../lib/tpm/signer.js'

export default class SignerUnix extends BaseCommand<typeof SignerUnix> {
  static override summary = 'Run the TPM signer on a unix socket (drop-in for spire-server-attestor-tpm-signer-unix)'
  static override description = `Reads the reference's signer-unix.conf unchanged (socket, tpm-address, duration, dir, filename,
tmpfile, issuer; \${VAR} expanded). POST /sign signs a PEM bundle into an innermost token, or adds a
nested layer when Content-Type is application/jwt, with the TPM key. POST /publish writes the body to
dir/tmpfile and renames it to dir/filename (0644), only a token this signer started: its innermost
layer verifies with this signer's own key (the outer layers are the remote signers' in an HA trust
domain) and every layer is well-formed and current. The socket is mode 0660; a stale socket is replaced, a live one refused. SIGTERM
or SIGINT finish in-flight requests and remove the socket. Runs as root (TPM access).`

  static override examples = ['<%= config.bin %> <%= command.id %> --config /etc/spire/server-attestor-tpm/signer-unix.conf']

  static override flags = {
    config: Flags.string({summary: 'signer-unix.conf (the reference format)', required: true}),
    tcti: settingFlag('tcti'),
    'tpm-timeout': settingFlag('tpm-timeout'),
  }

  static override ownsConfigFlag = true

  async run(): Promise<{stopped: true}> {
    if (!process.env.TRUSTCTL_LOG_LEVEL) this.logger.level = 'info'
    const cfg = await loadSignerUnixConfig(this.flags.config as string)
    const tpm = new TpmSigner({...tpmOptions(this.settings, this.logger), handle: cfg.tpmHandle})
    const publicKeyPem = await tpm.publicKeyPem() // fails fast when the TPM or the key is missing
    const server = await startSignerUnix(cfg, {
      signer: {algorithm: 'RS256', description: `TPM key 0x${cfg.tpmHandle.toString(16)}`, sign: (d) => tpm.sign(d)},
      publicKeyPem,
      logger: this.logger,
    })
    this.logger.info(`signer-unix: listening on ${cfg.socket} (TPM key 0x${cfg.tpmHandle.toString(16)}, ${tpm.transport}; publishing to ${cfg.dir}/${cfg.filename})`)
    await new Promise<void>((resolve) => stopOnSignals(server, {socketPath: cfg.socket, onStopped: resolve, log: (m) => this.logger.info(`signer-unix: ${m}`)}))
    this.logger.info('signer-unix: stopped')
    return {stopped: true}
  }
}
