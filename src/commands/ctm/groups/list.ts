import {CtmCommand} from '../../../ctm-command.js'
import {groups} from '../../../lib/ciphertrust/resources.js'

export default class CtmGroupsList extends CtmCommand<typeof CtmGroupsList> {
  static override summary = 'List user groups, every page (ksctl groups list)'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json | jq -r ".resources[].name"']

  async run() {
    const resources = await groups.list(await this.ctm())
    this.print(resources.map((g) => `${g.name}\t${g.users_count ?? 0} users`).join('\n'))
    return {skip: 0, limit: resources.length, total: resources.length, resources}
  }
}
