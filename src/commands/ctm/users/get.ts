import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {users} from '../../../lib/ciphertrust/resources.js'

export default class CtmUsersGet extends CtmCommand<typeof CtmUsersGet> {
  static override summary = 'Show one user (ksctl users get)'
  static override examples = ["<%= config.bin %> <%= command.id %> --userid 'local|1f2a...'"]
  static override flags = {userid: Flags.string({char: 'i', summary: 'user id, e.g. local|<uuid>', required: true})}

  async run() {
    const u = await users.get(await this.ctm(), this.flags.userid)
    this.render(u)
    return u
  }
}
