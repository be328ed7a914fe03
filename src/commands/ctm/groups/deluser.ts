import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {groups} from '../../../lib/ciphertrust/resources.js'

export default class CtmGroupsDeluser extends CtmCommand<typeof CtmGroupsDeluser> {
  static override summary = 'Remove a user from a group (ksctl groups rmuser)'
  static override examples = ["<%= config.bin %> <%= command.id %> --name KES-Service --userid 'local|1f2a...'"]
  static override flags = {
    name: Flags.string({char: 'n', summary: 'group name', required: true}),
    userid: Flags.string({char: 'u', summary: 'user id, e.g. local|<uuid>', required: true}),
  }

  async run() {
    const result = await groups.removeUser(await this.ctm(), this.flags.name, this.flags.userid)
    this.note(`removed ${this.flags.userid} from group ${this.flags.name}`)
    return result ?? {name: this.flags.name, userid: this.flags.userid, status: 'removed'}
  }
}
