import {CtmCommand} from '../../../ctm-command.js'
import {policies} from '../../../lib/ciphertrust/resources.js'

export default class CtmPolicyList extends CtmCommand<typeof CtmPolicyList> {
  static override summary = 'List policies, every page'
  static override examples = ['<%= config.bin %> <%= command.id %> --json']

  async run() {
    const resources = await policies.list(await this.ctm())
    this.print(resources.map((p) => `${p.id}\t${p.name}\t${(p.actions ?? []).join(',')}`).join('\n'))
    return {skip: 0, limit: resources.length, total: resources.length, resources}
  }
}
