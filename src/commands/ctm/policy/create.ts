import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {readJsonFile} from '../../../lib/core/json-file.js'
import {policies} from '../../../lib/ciphertrust/resources.js'

export default class CtmPolicyCreate extends CtmCommand<typeof CtmPolicyCreate> {
  static override summary = 'Create a policy from a JSON file (ksctl policy create)'
  static override description = 'The file is the policy body, as in the KES tutorial: {"allow": true, "name": "kes-policy", "actions": [...], "resources": [...]}.'
  static override examples = ['<%= config.bin %> <%= command.id %> --jsonfile kes-policy.json', '<%= config.bin %> <%= command.id %> --jsonfile kes-policy.json --if-not-exists --json']
  static override flags = {
    jsonfile: Flags.string({char: 'j', summary: 'policy JSON file', required: true}),
    'if-not-exists': Flags.boolean({summary: 'an existing object with that name is reported unchanged (exit 0) instead of exit 8'}),
  }

  async run() {
    const body = await readJsonFile(this.flags.jsonfile, '--jsonfile')
    const {validatePolicyBody} = await import('../../../lib/ciphertrust/validate.js')
    validatePolicyBody(body, this.flags.jsonfile)
    const r = await policies.create(await this.ctm(), body, {ifNotExists: this.flags['if-not-exists']})
    this.note(`${r.status} policy ${r.object.name} (${r.object.id})`)
    this.render(r.object)
    return r
  }
}
