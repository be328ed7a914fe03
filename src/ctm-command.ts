import {BaseCommand, settingBooleanFlag, settingFlag} from './base-command.js'
import type {Command} from '@oclif/core'
import type {CtmClient} from './lib/ciphertrust/client.js'

const G = 'CONNECTION'

/** Commands that talk to CipherTrust Manager: one set of connection flags, one way to connect. */
export abstract class CtmCommand<T extends typeof Command> extends BaseCommand<T> {
  static override baseFlags = {
    ...BaseCommand.baseFlags,
    url: settingFlag('ctm-url', {helpGroup: G}),
    username: settingFlag('ctm-username', {helpGroup: G}),
    'password-file': settingFlag('ctm-password-file', {helpGroup: G}),
    password: settingFlag('ctm-password', {helpGroup: G, summary: 'CipherTrust Manager password (visible in ps: prefer --password-file)'}),
    domain: settingFlag('ctm-domain', {helpGroup: G}),
    'auth-domain': settingFlag('ctm-auth-domain', {helpGroup: G}),
    'ksctl-config': settingFlag('ksctl-config', {helpGroup: G}),
    'ca-file': settingFlag('ca-file', {helpGroup: G}),
    insecure: settingBooleanFlag('insecure', {helpGroup: G}),
    timeout: settingFlag('timeout', {helpGroup: G}),
  }

  /** A logged-in client; prompts for the password on a TTY when none is configured. */
  protected async ctm(): Promise<CtmClient> {
    const {ctmConnection} = await import('./lib/ciphertrust/connection.js')
    const {CtmClient} = await import('./lib/ciphertrust/client.js')
    const conn = await ctmConnection(this.settings, this.logger, () => this.promptSecret('CipherTrust Manager password', '--password-file'))
    const client = await CtmClient.connect(conn)
    await client.login()
    return client
  }

  protected render(obj: unknown): void {
    this.print(JSON.stringify(obj, null, 2))
  }
}
