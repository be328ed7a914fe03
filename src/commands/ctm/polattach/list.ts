import {CtmCommand} from '../../../ctm-command.js'
import {attachments} from '../../../lib/ciphertrust/resources.js'

export default class CtmPolattachList extends CtmCommand<typeof CtmPolattachList> {
  static override summary = 'List policy attachments, every page'
  static override examples = ['<%= config.bin %> <%= command.id %> --json']

  async run() {
    const resources = await attachments.list(await this.ctm())
    this.print(resources.map((a) => `${a.id}\t${a.policy}\t${JSON.stringify(a.principalSelector)}`).join('\n'))
    return {skip: 0, limit: resources.length, total: resources.length, resources}
  }
}
