import {Flags} from '@oclif/core'

import {KeylimeCommand} from '../../../keylime-command.js'
import {checkNonce} from '../../../lib/keylime/nonce.js'
import {identityQuote} from '../../../lib/keylime/ops.js'

export default class KeylimeAgentQuote extends KeylimeCommand<typeof KeylimeAgentQuote> {
  static override summary = 'Get an identity quote from a Keylime agent'
  static override description = 'The nonce must be 1 to 64 ASCII letters and digits (checked before any request); without --nonce one is generated as the SPIRE plugin does (32 characters of base32).'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --nonce abc123 --json']
  static override flags = {nonce: Flags.string({summary: 'nonce (1-64 alphanumeric characters)'})}

  async run() {
    if (this.flags.nonce !== undefined) checkNonce(this.flags.nonce)
    const q = await identityQuote(await this.keylime(), this.flags.nonce)
    this.print([`nonce: ${q.nonce}`, `hash:  ${q.hashAlg}`, `quote: ${q.quote}`].join('\n'))
    return q
  }
}
