import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {users} from '../../../lib/ciphertrust/resources.js'

export default class CtmUsersList extends CtmCommand<typeof CtmUsersList> {
  static override summary = 'List users, every page (ksctl users list)'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --group KES-Service --json']
  static override flags = {group: Flags.string({summary: 'only members of this group'})}

  async run() {
    const resources = await users.list(await this.ctm(), {group: this.flags.group})
    this.print(resources.map((u) => `${u.user_id}\t${u.username}\t${u.email ?? ''}`).join('\n'))
    return {skip: 0, limit: resources.length, total: resources.length, resources}
  }
}
