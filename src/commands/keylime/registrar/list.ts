import {KeylimeCommand} from '../../../keylime-command.js'
import {registrarList} from '../../../lib/keylime/ops.js'

export default class KeylimeRegistrarList extends KeylimeCommand<typeof KeylimeRegistrarList> {
  static override summary = 'The UUIDs of the agents in the Keylime registrar'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json | jq -r ".uuids[]"']

  async run() {
    const uuids = await registrarList(await this.keylime())
    this.print(uuids.join('\n') || '(no agents)')
    return {uuids}
  }
}
