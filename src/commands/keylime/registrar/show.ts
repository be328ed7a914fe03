import {Args} from '@oclif/core'

import {KeylimeCommand} from '../../../keylime-command.js'
import {registrarShow} from '../../../lib/keylime/ops.js'

export default class KeylimeRegistrarShow extends KeylimeCommand<typeof KeylimeRegistrarShow> {
  static override summary = "An agent's record in the Keylime registrar (AK, EK, mTLS certificate, address)"
  static override examples = ['<%= config.bin %> <%= command.id %> d432fbb3-d2f1-4a97-9ef7-75bd81c00000 --json']
  static override args = {uuid: Args.string({description: 'agent UUID', required: true})}

  async run() {
    const r = await registrarShow(await this.keylime(), this.args.uuid)
    this.print(Object.entries(r).map(([k, v]) => `${k}: ${typeof v === 'string' && v.length > 80 ? `${v.slice(0, 77)}...` : JSON.stringify(v)}`).join('\n'))
    return r
  }
}
