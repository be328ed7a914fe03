import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {readSecretFile} from '../../../lib/core/secret-file.js'
import {users} from '../../../lib/ciphertrust/resources.js'

export default class CtmUsersCreate extends CtmCommand<typeof CtmUsersCreate> {
  static override summary = 'Create a local user (ksctl users create); prints the user object with its user_id'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --name kes-user --pword-file kes-user.pw --email kes@example.com',
    "<%= config.bin %> <%= command.id %> --name kes-user --pword-file kes-user.pw --if-not-exists --json | jq -r .object.user_id",
  ]
  static override flags = {
    name: Flags.string({char: 'n', summary: 'login name (username)', required: true}),
    'pword-file': Flags.string({summary: "file holding the new user's password", exactlyOne: ['pword-file', 'pword']}),
    pword: Flags.string({char: 'p', summary: "the new user's password (visible in ps: prefer --pword-file)", exactlyOne: ['pword-file', 'pword']}),
    email: Flags.string({summary: 'e-mail address (unique in CM)'}),
    'if-not-exists': Flags.boolean({summary: 'an existing object with that name is reported unchanged (exit 0) instead of exit 8'}),
  }

  async run() {
    const {registerSecret} = await import('../../../lib/core/log.js')
    let pw: string
    if (this.flags['pword-file']) pw = await readSecretFile(this.flags['pword-file'], '--pword-file')
    else {
      pw = this.flags.pword as string
      registerSecret(pw)
      this.logger.warn('--pword puts a password on the command line, where other users can read it; use --pword-file')
    }
    const r = await users.create(await this.ctm(), {username: this.flags.name, password: pw, email: this.flags.email}, {ifNotExists: this.flags['if-not-exists']})
    this.note(`${r.status} user ${r.object.username} (${r.object.user_id})`)
    this.render(r.object)
    return r
  }
}
