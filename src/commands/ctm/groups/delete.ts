import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {groups} from '../../../lib/ciphertrust/resources.js'

export default class CtmGroupsDelete extends CtmCommand<typeof CtmGroupsDelete> {
  static override summary = 'Delete a user group (ksctl groups delete)'
  static override examples = ['<%= config.bin %> <%= command.id %> --name KES-Service']
  static override flags = {name: Flags.string({char: 'n', summary: 'group name', required: true})}

  async run() {
    await groups.delete(await this.ctm(), this.flags.name)
    this.note(`deleted group ${this.flags.name}`)
    return {name: this.flags.name, status: 'deleted'}
  }
}
