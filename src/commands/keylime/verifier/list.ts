import {KeylimeCommand} from '../../../keylime-command.js'
import {verifierList} from '../../../lib/keylime/ops.js'

export default class KeylimeVerifierList extends KeylimeCommand<typeof KeylimeVerifierList> {
  static override summary = "Every agent in the Keylime verifier with its state and the SPIRE plugin's verdict"
  static override examples = ['<%= config.bin %> <%= command.id %> --json | jq ".agents[] | select(.passesPluginRule | not)"']

  async run() {
    const agents = await verifierList(await this.keylime())
    this.print(agents.map((a) => `${a.uuid}\t${a.operationalState}\t${a.stateName}\t${a.passesPluginRule ? 'passes' : 'does not pass'}`).join('\n') || '(no agents)')
    return {agents}
  }
}
