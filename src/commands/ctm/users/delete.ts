import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {users} from '../../../lib/ciphertrust/resources.js'

export default class CtmUsersDelete extends CtmCommand<typeof CtmUsersDelete> {
  static override summary = 'Delete a user (ksctl users delete)'
  static override examples = ["<%= config.bin %> <%= command.id %> --userid 'local|1f2a...'"]
  static override flags = {userid: Flags.string({char: 'i', summary: 'user id, e.g. local|<uuid>', required: true})}

  async run() {
    await users.delete(await this.ctm(), this.flags.userid)
    this.note(`deleted user ${this.flags.userid}`)
    return {userid: this.flags.userid, status: 'deleted'}
  }
}
