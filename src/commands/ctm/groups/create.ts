import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {groups} from '../../../lib/ciphertrust/resources.js'

export default class CtmGroupsCreate extends CtmCommand<typeof CtmGroupsCreate> {
  static override summary = 'Create a user group (ksctl groups create)'
  static override examples = ['<%= config.bin %> <%= command.id %> --name KES-Service', '<%= config.bin %> <%= command.id %> --name KES-Service --if-not-exists --json']
  static override flags = {
    name: Flags.string({char: 'n', summary: 'group name', required: true}),
    description: Flags.string({summary: 'description'}),
    'if-not-exists': Flags.boolean({summary: 'an existing object with that name is reported unchanged (exit 0) instead of exit 8'}),
  }

  async run() {
    const r = await groups.create(await this.ctm(), this.flags.name, {description: this.flags.description, ifNotExists: this.flags['if-not-exists']})
    this.note(`${r.status} group ${r.object.name}`)
    this.render(r.object)
    return r
  }
}
