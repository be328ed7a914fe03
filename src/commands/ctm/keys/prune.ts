import {Flags} from '@oclif/core'

import {settingFlag} from '../../../base-command.js'
import {CtmCommand} from '../../../ctm-command.js'
import {UsageError} from '../../../lib/core/errors.js'
import {loadPrompts} from '../../../lib/core/lazy.js'
import {parseDuration} from '../../../lib/core/values.js'
import {destroyKey, listPluginKeys, staleKeys} from '../../../lib/ciphertrust/keys.js'

export default class CtmKeysPrune extends CtmCommand<typeof CtmKeysPrune> {
  static override summary = "Destroy the SPIRE plugin's stale keys (inactive, or not updated within --stale)"
  static override description = `The ciphertrust_kms plugin never destroys keys; after rotations and server re-installs they pile up.
A key is stale when its spire-active label is not true, or its spire-last-update is older than --stale
(default 14d, the plugin's own window). --dry-run lists them; otherwise each is destroyed with
POST /api/v1/vault/keys2/{id}/destroy, after a confirmation on a terminal or with --yes.
--trust-domain and/or --server-id is required: without a scope the keys of every SPIRE server in
CipherTrust Manager would match.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --trust-domain example.org --dry-run',
    '<%= config.bin %> <%= command.id %> --trust-domain example.org --stale 30d --yes --json',
  ]

  static override flags = {
    'trust-domain': settingFlag('trust-domain'),
    'server-id': Flags.string({summary: 'only keys of this server ID'}),
    stale: Flags.string({summary: 'stale window (default 14d)'}),
    'dry-run': Flags.boolean({summary: 'list the stale keys; destroy nothing'}),
    yes: Flags.boolean({char: 'y', summary: 'do not ask for confirmation'}),
  }

  async run() {
    const trustDomain = this.settings.string('trust-domain')
    const serverId = this.flags['server-id']
    // Without a scope the filter would match the keys of every SPIRE server in CipherTrust Manager.
    if (!trustDomain && !serverId) throw new UsageError('MISSING_FLAG', 'say whose keys to prune: --trust-domain and/or --server-id', {suggestions: ['look first: trustctl ctm keys list --trust-domain example.org --all']})
    if (this.flags.stale) parseDuration(this.flags.stale, '--stale') // a bad --stale fails before any login
    const client = await this.ctm()
    const rows = await listPluginKeys(client, {serverId, trustDomain, all: true})
    const stale = staleKeys(rows, this.flags.stale)
    this.print(stale.map((k) => `${k.name}\t${k.reason}`).join('\n') || '(no stale keys)')
    if (this.flags['dry-run'] || stale.length === 0) return {dryRun: Boolean(this.flags['dry-run']), stale, destroyed: []}
    if (!this.flags.yes) {
      if (!this.canPrompt()) throw new UsageError('MISSING_FLAG', `refusing to destroy ${stale.length} key(s) without confirmation`, {suggestions: ['pass --yes, or look first with --dry-run']})
      const {confirm} = await loadPrompts()
      if (!(await confirm({message: `Destroy ${stale.length} key(s)? Their material cannot be recovered.`, default: false}, {output: process.stderr}))) {
        throw new UsageError('USAGE', 'nothing destroyed: cancelled at the prompt')
      }
    }
    const destroyed: string[] = []
    for (const k of stale) {
      await destroyKey(client, k.id)
      destroyed.push(k.name)
      this.note(`destroyed ${k.name}`)
    }
    return {dryRun: false, stale, destroyed}
  }
}
