import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {groups} from '../../../lib/ciphertrust/resources.js'

export default class CtmGroupsAdduser extends CtmCommand<typeof CtmGroupsAdduser> {
  static override summary = 'Add a user to a group (ksctl groups adduser)'
  static override examples = ["<%= config.bin %> <%= command.id %> --name KES-Service --userid 'local|1f2a...'"]
  static override flags = {
    name: Flags.string({char: 'n', summary: 'group name', required: true}),
    userid: Flags.string({char: 'u', summary: 'user id, e.g. local|<uuid>', required: true}),
  }

  async run() {
    const result = await groups.addUser(await this.ctm(), this.flags.name, this.flags.userid)
    this.note(`added ${this.flags.userid} to group ${this.flags.name}`)
    return result ?? {name: this.flags.name, userid: this.flags.userid, status: 'added'}
  }
}
