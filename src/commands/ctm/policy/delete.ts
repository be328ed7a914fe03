import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {policies} from '../../../lib/ciphertrust/resources.js'

export default class CtmPolicyDelete extends CtmCommand<typeof CtmPolicyDelete> {
  static override summary = 'Delete a policy by --id or --name (ksctl policy delete)'
  static override examples = ['<%= config.bin %> <%= command.id %> --name kes-policy', '<%= config.bin %> <%= command.id %> --id 6f1c...']
  static override flags = {
    id: Flags.string({summary: 'policy id', exactlyOne: ['id', 'name']}),
    name: Flags.string({summary: 'policy name', exactlyOne: ['id', 'name']}),
  }

  async run() {
    const id = await policies.delete(await this.ctm(), {id: this.flags.id, name: this.flags.name})
    this.note(`deleted policy ${this.flags.name ?? id}`)
    return {id, status: 'deleted'}
  }
}
