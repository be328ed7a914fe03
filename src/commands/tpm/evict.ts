import {Flags} from '@oclif/core'

import {BaseCommand, settingFlag} from '../../base-command.js'
import {UsageError} from '../../lib/core/errors.js'
import {loadPrompts} from '../../lib/core/lazy.js'
import {TpmClient} from '../../lib/tpm/client.js'
import {TpmError} from '../../lib/tpm/errors.js'
import {DEFAULT_SRK_HANDLE, formatHandle, parsePersistentHandle} from '../../lib/tpm/handles.js'
import {handleSetting, tpmOptions} from '../../lib/tpm/options.js'

export default class TpmEvict extends BaseCommand<typeof TpmEvict> {
  static override summary = 'Remove a persistent key from the TPM'
  static override description = `Evicts the object at --handle. This destroys the key: signatures it made can no longer be produced,
and every verifier that trusts its public key needs a new one. The storage key handle is refused.
Asks for confirmation on a terminal; elsewhere --yes is required.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --handle 0x81008006',
    '<%= config.bin %> <%= command.id %> --handle 0x81008006 --yes --json',
    '<%= config.bin %> <%= command.id %> --handle 0x81008006 --dry-run',
  ]

  static override flags = {
    handle: Flags.string({summary: 'persistent handle to evict (required; no default for a destructive command)', required: true}),
    yes: Flags.boolean({char: 'y', summary: 'do not ask for confirmation'}),
    'dry-run': Flags.boolean({summary: 'show what would be evicted; change nothing'}),
    'srk-handle': settingFlag('srk-handle'),
    'owner-auth-file': settingFlag('owner-auth-file'),
    tcti: settingFlag('tcti'),
    'tpm-timeout': settingFlag('tpm-timeout'),
  }

  async run() {
    const handle = parsePersistentHandle(this.flags.handle, '--handle')
    const srk = handleSetting(this.settings, 'srk-handle')
    if (handle === srk || handle === DEFAULT_SRK_HANDLE) {
      throw new TpmError('REFUSED', `${formatHandle(handle)} is the storage key: trustctl does not evict it`, {
        suggestions: ['evicting the SRK orphans every key created under it; use tpm2_evictcontrol yourself if you really mean it'],
      })
    }
    const client = new TpmClient(tpmOptions(this.settings, this.logger))
    const ownerAuth = await this.settings.secret('owner-auth')
    if (!this.flags.yes && !this.flags['dry-run']) {
      if (!this.canPrompt()) {
        throw new UsageError('MISSING_FLAG', `refusing to evict ${formatHandle(handle)} without confirmation`, {suggestions: ['pass --yes (no terminal to ask on)']})
      }
      const {confirm} = await loadPrompts()
      const ok = await confirm({message: `Evict the key at ${formatHandle(handle)} (TCTI ${client.tcti})? This cannot be undone.`, default: false}, {output: process.stderr})
      if (!ok) throw new UsageError('USAGE', 'not evicted: cancelled at the prompt')
    }
    const result = await client.evict(handle, {ownerAuth, dryRun: this.flags['dry-run']})
    this.print(`${result.dryRun ? 'would evict' : 'evicted'} ${result.handle} (${result.description})`)
    return result
  }
}
