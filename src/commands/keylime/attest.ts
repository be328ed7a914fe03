import {Flags} from '@oclif/core'

import {settingFlag} from '../../base-command.js'
import {KeylimeCommand} from '../../keylime-command.js'
import {attest} from '../../lib/keylime/ops.js'

export default class KeylimeAttest extends KeylimeCommand<typeof KeylimeAttest> {
  static override summary = "Run the SPIRE Keylime node attestor's flow end to end, and print the SPIFFE ID it would issue"
  static override description = `1. agent info (UUID, hash algorithm), 2. verifier state (3 or 4 only), 3. a fresh nonce, 4. the
agent's identity quote, 5. the verifier's verify/identity (valid). Each step's result is printed;
a failure exits naming the failing step (6 for state and quote, 7 unreachable, 3 unknown agent).
The SPIFFE ID is spiffe://<trust-domain>/spire/agent/keylime/<uuid>.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --trust-domain example.org --cert client-cert.crt --key client-private.pem --ca-file cacert.crt',
    '<%= config.bin %> <%= command.id %> --trust-domain example.org --agent-uuid d432fbb3-... --json',
  ]

  static override flags = {
    'trust-domain': settingFlag('trust-domain', {char: 't'}),
    'agent-uuid': Flags.string({summary: 'skip agent info (API 2.1 agents) and use this UUID'}),
  }

  async run() {
    const result = await attest(await this.keylime(), {trustDomain: this.settings.require('trust-domain'), agentUuid: this.flags['agent-uuid']})
    this.print([...result.steps.map((s) => `${s.ok ? 'ok  ' : 'FAIL'} ${s.step}. ${s.name}: ${s.detail}`), `SPIFFE ID: ${result.spiffeId}`].join('\n'))
    return result
  }
}
