import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {attachments} from '../../../lib/ciphertrust/resources.js'

export default class CtmPolattachDelete extends CtmCommand<typeof CtmPolattachDelete> {
  static override summary = 'Delete a policy attachment (ksctl polattach delete)'
  static override examples = ['<%= config.bin %> <%= command.id %> --id 7d2e...']
  static override flags = {id: Flags.string({summary: 'attachment id', required: true})}

  async run() {
    await attachments.delete(await this.ctm(), this.flags.id)
    this.note(`deleted policy attachment ${this.flags.id}`)
    return {id: this.flags.id, status: 'deleted'}
  }
}
