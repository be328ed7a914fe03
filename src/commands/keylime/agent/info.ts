import {KeylimeCommand} from '../../../keylime-command.js'
import {agentInfo} from '../../../lib/keylime/ops.js'

export default class KeylimeAgentInfo extends KeylimeCommand<typeof KeylimeAgentInfo> {
  static override summary = "Show a Keylime agent's UUID, TPM algorithms and AK handle (API 2.2+)"
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --agent-host 10.0.0.7 --json']

  async run() {
    const info = await agentInfo(await this.keylime())
    this.print([`uuid:      ${info.uuid}`, `hash:      ${info.hashAlg}`, `encryption: ${info.encAlg}`, `signing:   ${info.signAlg}`, `AK handle: ${info.akHandle ?? '-'}`, `API:       ${info.apiVersion} (${info.endpoint})`].join('\n'))
    return info
  }
}
