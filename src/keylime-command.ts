import type {Command} from '@oclif/core'

import {BaseCommand, settingBooleanFlag, settingFlag} from './base-command.js'
import {UsageError} from './lib/core/errors.js'
import type {KeylimeClient} from './lib/keylime/client.js'

const G = 'KEYLIME'

/** Commands that talk to Keylime: the SPIRE plugin's endpoint words, one way to build the client. */
export abstract class KeylimeCommand<T extends typeof Command> extends BaseCommand<T> {
  static override baseFlags = {
    ...BaseCommand.baseFlags,
    'agent-host': settingFlag('keylime-agent-host', {helpGroup: G}),
    'agent-port': settingFlag('keylime-agent-port', {helpGroup: G}),
    'verifier-host': settingFlag('keylime-verifier-host', {helpGroup: G}),
    'verifier-port': settingFlag('keylime-verifier-port', {helpGroup: G}),
    'registrar-host': settingFlag('keylime-registrar-host', {helpGroup: G}),
    'registrar-port': settingFlag('keylime-registrar-port', {helpGroup: G}),
    cert: settingFlag('keylime-cert', {helpGroup: G}),
    key: settingFlag('keylime-key', {helpGroup: G}),
    'ca-file': settingFlag('ca-file', {helpGroup: G, summary: "Keylime's CA certificate (cv_ca/cacert.crt); the chain is verified, the host name is not"}),
    'agent-mtls': settingBooleanFlag('keylime-agent-mtls', {helpGroup: G}),
    'api-version': settingFlag('keylime-api-version', {helpGroup: G}),
    timeout: settingFlag('timeout', {helpGroup: G}),
  }

  protected async keylime(): Promise<KeylimeClient> {
    const {KeylimeClient} = await import('./lib/keylime/client.js')
    const s = this.settings
    const ep = (svc: string) => {
      const port = s.integer(`keylime-${svc}-port`) as number
      if (port < 1 || port > 65535) throw new UsageError('INVALID_VALUE', `--${svc}-port: ${port} is not a TCP port (1-65535)`)
      return {host: s.require(`keylime-${svc}-host`), port}
    }
    return KeylimeClient.create({
      agent: ep('agent'),
      verifier: ep('verifier'),
      registrar: ep('registrar'),
      certFile: s.string('keylime-cert'),
      keyFile: s.string('keylime-key'),
      caFile: s.string('ca-file'),
      agentMtls: s.boolean('keylime-agent-mtls'),
      apiVersion: s.string('keylime-api-version'),
      timeoutMs: s.duration('timeout'),
      logger: this.logger,
    })
  }
}
