import {Args} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {getKey, toRow} from '../../../lib/ciphertrust/keys.js'

export default class CtmKeysShow extends CtmCommand<typeof CtmKeysShow> {
  static override summary = 'Show one key, with its PEM public key'
  static override examples = ['<%= config.bin %> <%= command.id %> spire-key-f2554a90-8ce7-4d73-9788-cf842e31c4ef-x509-CA-A', '<%= config.bin %> <%= command.id %> 5b3c...-uuid --json']
  static override args = {key: Args.string({description: 'key name or id', required: true})}

  async run() {
    const key = await getKey(await this.ctm(), this.args.key)
    const row = toRow(key)
    this.print([`name:     ${key.name}`, `id:       ${key.id}`, `algorithm: ${key.algorithm ?? '?'} ${key.curveid ?? key.size ?? ''}`, `state:    ${key.state ?? '?'}`, `version:  ${key.version ?? '?'}`, `labels:   ${JSON.stringify(key.labels ?? {})}`, `last update: ${row.lastUpdate ?? '-'}`, key.publickey ?? '(no public key)'].join('\n'))
    return {...key, plugin: row}
  }
}
