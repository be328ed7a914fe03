import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {readSecretFile} from '../../../lib/core/secret-file.js'

export default class CtmTokensCreate extends CtmCommand<typeof CtmTokensCreate> {
  static override summary = 'Issue a token for a user (ksctl tokens create); --issue-rt prints only the refresh token'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --user kes-user --password-file kes-user.pw --issue-rt',
    '<%= config.bin %> <%= command.id %> --user kes-user --password-file kes-user.pw --issue-rt --json',
  ]
  static override flags = {
    user: Flags.string({summary: 'user to issue the token for', required: true}),
    'user-password-file': Flags.string({summary: "file holding that user's password (defaults to --password-file)"}),
    'issue-rt': Flags.boolean({summary: 'print only the refresh token (the whole object with --json)'}),
    labels: Flags.string({summary: 'labels on the refresh token, comma-separated'}),
    'rt-life': Flags.integer({summary: 'refresh token lifetime in minutes', min: 1}),
  }

  static override revealsSecrets = true

  async run() {
    const client = await this.ctm()
    const file = this.flags['user-password-file'] ?? this.settings.get('ctm-password').secretFile
    const pw = file ? await readSecretFile(file, '--user-password-file') : await this.settings.requireSecret('ctm-password')
    const token = await client.createToken(this.flags.user, pw, {labels: this.flags.labels?.split(',').filter(Boolean), refreshTokenLifetimeMin: this.flags['rt-life']})
    if (this.flags['issue-rt']) this.print(token.refresh_token ?? '')
    else this.print(token.jwt)
    return token
  }
}
