import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {readJsonFile} from '../../../lib/core/json-file.js'
import {attachments} from '../../../lib/ciphertrust/resources.js'

export default class CtmPolattachCreate extends CtmCommand<typeof CtmPolattachCreate> {
  static override summary = 'Attach a policy to principals (ksctl polattach create)'
  static override description = 'FILE holds the principal selector, e.g. {"cust":{"groups":["KES-Service"]}}. With --if-not-exists an attachment of the same policy to the same selector is reported unchanged.'
  static override examples = ['<%= config.bin %> <%= command.id %> -p kes-policy -g kes-attachment.json', '<%= config.bin %> <%= command.id %> -p kes-policy -g kes-attachment.json --if-not-exists --json']
  static override flags = {
    policy: Flags.string({char: 'p', aliases: ['polid'], summary: 'policy name or id', required: true}),
    prinjson: Flags.string({char: 'g', summary: 'JSON file with the principal selector', required: true}),
    'if-not-exists': Flags.boolean({summary: 'an existing object with that name is reported unchanged (exit 0) instead of exit 8'}),
  }

  async run() {
    const selector = await readJsonFile(this.flags.prinjson, '--prinjson')
    const r = await attachments.create(await this.ctm(), this.flags.policy, selector, {ifNotExists: this.flags['if-not-exists']})
    this.note(`${r.status} policy attachment ${r.object.id}`)
    this.render(r.object)
    return r
  }
}
