import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {policies} from '../../../lib/ciphertrust/resources.js'

export default class CtmPolicyGet extends CtmCommand<typeof CtmPolicyGet> {
  static override summary = 'Show a policy by --id or --name'
  static override examples = ['<%= config.bin %> <%= command.id %> --name kes-policy', '<%= config.bin %> <%= command.id %> --id 6f1c...']
  static override flags = {
    id: Flags.string({summary: 'policy id', exactlyOne: ['id', 'name']}),
    name: Flags.string({summary: 'policy name', exactlyOne: ['id', 'name']}),
  }

  async run() {
    const p = await policies.get(await this.ctm(), {id: this.flags.id, name: this.flags.name})
    this.render(p)
    return p
  }
}
