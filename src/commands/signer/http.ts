import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {loadSignerHttpConfig} from '../../lib/services/config.js'
import {stopOnSignals} from '../../lib/services/listen.js'
import {startSignerHttp} from '../../lib/services/signer-http.js'

export default class SignerHttp extends BaseCommand<typeof SignerHttp> {
  static override summary = 'Run the network signer relay (drop-in for spire-server-attestor-tpm-signer-http)'
  static override description = `Reads the reference's signer-http.conf unchanged (socket, keydir relative to the file, primary,
backup, listen-addr, allowed-addrs resolved at start). POST /sign: empty body 400; a token whose outer
layer verifies with neither key (5 s leeway) 400, not forwarded; otherwise forwarded to signer-unix as
application/jwt and the new token returned with 200. Peers outside allowed-addrs get 401.
Beyond the reference, in the same file: tls-cert and tls-key (HTTPS), body-limit (default 1 MiB, then
413), headers-timeout (5s) and request-timeout (30s) against slow clients; GET /healthz. Every
rejection is logged with its reason. Runs as an unprivileged user.`

  static override examples = ['<%= config.bin %> <%= command.id %> --config /etc/spire/server-attestor-tpm/signer-http.conf']

  static override flags = {
    config: Flags.string({summary: 'signer-http.conf (the reference format)', required: true}),
  }

  static override ownsConfigFlag = true

  async run(): Promise<{stopped: true}> {
    if (!process.env.TRUSTCTL_LOG_LEVEL) this.logger.level = 'info'
    const cfg = await loadSignerHttpConfig(this.flags.config as string)
    const {server, port} = await startSignerHttp(cfg, this.logger)
    this.logger.info(`signer-http: listening on ${cfg.listenAddr} (port ${port}${cfg.tlsCert ? ', TLS' : ''}), forwarding to ${cfg.socket}`)
    await new Promise<void>((resolve) => stopOnSignals(server, {onStopped: resolve, log: (m) => this.logger.info(`signer-http: ${m}`)}))
    this.logger.info('signer-http: stopped')
    return {stopped: true}
  }
}
