import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {UsageError} from '../../../lib/core/errors.js'
import {readSecretFile} from '../../../lib/core/secret-file.js'
import {CtmError} from '../../../lib/ciphertrust/errors.js'

export default class CtmTokensCreate extends CtmCommand<typeof CtmTokensCreate> {
  static override summary = 'Issue a token by logging in as a user (ksctl tokens create); --issue-rt prints only the refresh token'
  static override description = `Like "ksctl tokens create --user U --password P": the password grant is made with that user's own
credentials (--password-file, or TRUSTCTL_CTM_PASSWORD, or a prompt), so no admin session is needed.
Prints the access token, or with --issue-rt only the refresh token (KES's keystore.gemalto.credentials.token).
With --json the whole token object is printed. This is the one command whose output is a secret.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --user kes-user --password-file kes-user.pw --issue-rt',
    '<%= config.bin %> <%= command.id %> --user kes-user --password-file kes-user.pw --issue-rt --json',
  ]

  static override flags = {
    user: Flags.string({summary: 'user to log in as and issue the token for', required: true}),
    'user-password-file': Flags.string({summary: "file holding that user's password (same as --password-file)"}),
    'issue-rt': Flags.boolean({summary: 'print only the refresh token (the whole object with --json)'}),
    labels: Flags.string({summary: 'labels on the refresh token, comma-separated'}),
    'rt-life': Flags.integer({summary: 'refresh token lifetime in minutes', min: 1}),
  }

  static override revealsSecrets = true

  async run() {
    const {ctmConnection} = await import('../../../lib/ciphertrust/connection.js')
    const {CtmClient} = await import('../../../lib/ciphertrust/client.js')
    const conn = await ctmConnection(this.settings, this.logger, () => this.promptSecret(`password of ${this.flags.user}`, '--password-file'), {passwordLogin: true})
    const file = this.flags['user-password-file']
    const password = file ? await readSecretFile(file, '--user-password-file') : conn.password
    if (!password) {
      throw new UsageError('MISSING_FLAG', `no password for ${this.flags.user}`, {suggestions: ['pass --password-file with the user\'s password']})
    }
    const client = await CtmClient.connect({...conn, username: this.flags.user, password, refreshToken: undefined})
    const token = await client.createToken(this.flags.user, password, {labels: this.flags.labels?.split(',').filter(Boolean), refreshTokenLifetimeMin: this.flags['rt-life']})
    if (this.flags['issue-rt'] && !token.refresh_token) throw new CtmError('INVALID_RESPONSE', `CipherTrust Manager issued no refresh token for ${this.flags.user}`)
    this.print(this.flags['issue-rt'] ? (token.refresh_token as string) : token.jwt)
    return token
  }
}
