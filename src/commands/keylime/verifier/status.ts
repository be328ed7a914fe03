import {Args} from '@oclif/core'

import {KeylimeCommand} from '../../../keylime-command.js'
import {KeylimeError} from '../../../lib/keylime/errors.js'
import {verifierStatus} from '../../../lib/keylime/ops.js'

export default class KeylimeVerifierStatus extends KeylimeCommand<typeof KeylimeVerifierStatus> {
  static override summary = "An agent's state in the Keylime verifier, and whether the SPIRE plugin would accept it"
  static override description = 'Only operational states 3 (Get Quote) and 4 (Get Quote (retry)) pass the SPIRE plugin. Exit 6 when the agent does not pass, 3 when the verifier does not know it.'
  static override examples = ['<%= config.bin %> <%= command.id %> d432fbb3-d2f1-4a97-9ef7-75bd81c00000 --cert client-cert.crt --key client-private.pem --ca-file cacert.crt']
  static override args = {uuid: Args.string({description: 'agent UUID', required: true})}

  async run() {
    const s = await verifierStatus(await this.keylime(), this.args.uuid)
    this.print([`agent:   ${s.uuid}`, `state:   ${s.operationalState} (${s.stateName})`, `SPIRE plugin: ${s.passesPluginRule ? 'passes' : 'does NOT pass'}`, `attestations: ${s.attestationCount ?? '-'}`, `last quote: ${s.lastReceivedQuote ?? '-'}`, `last success: ${s.lastSuccessfulAttestation ?? '-'}`].join('\n'))
    if (!s.passesPluginRule) {
      throw new KeylimeError('NOT_PASSING', `agent ${s.uuid} is in state ${s.operationalState} (${s.stateName}); the SPIRE plugin accepts only 3 and 4`, {details: {status: s}})
    }
    return s
  }
}
