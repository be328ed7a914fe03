import {Flags} from '@oclif/core'

import {settingFlag} from '../../base-command.js'
import {CtmCommand} from '../../ctm-command.js'
import {UsageError} from '../../lib/core/errors.js'
import {loadPrompts} from '../../lib/core/lazy.js'
import {serverIdsForTrustDomain} from '../../lib/ciphertrust/keys.js'
import {initMetadataFile} from '../../lib/metadata/metadata-file.js'
import {normalizeServerId} from '../../lib/metadata/server-id.js'

export default class MetadataRecover extends CtmCommand<typeof MetadataRecover> {
  static override summary = 'Restore a lost key-metadata file from the server IDs that own keys in CipherTrust Manager'
  static override description = `Lists the active SPIRE keys of --trust-domain, groups them by their spire-server-id label and writes
that server ID to --file (0600, atomically), so the ciphertrust_kms plugin finds its keys again. With
several server IDs it asks on a terminal; otherwise --server-id picks one. An existing file is only
replaced with --force.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --file /opt/spire/ctmkms/ctmkms-key-metadata --trust-domain example.org',
    '<%= config.bin %> <%= command.id %> --file ctmkms-key-metadata --trust-domain example.org --server-id f2554a90-8ce7-4d73-9788-cf842e31c4ef --json',
  ]

  static override flags = {
    file: settingFlag('metadata-file', {char: 'f'}),
    'trust-domain': settingFlag('trust-domain', {char: 't'}),
    'server-id': Flags.string({summary: 'choose this server ID when several own keys'}),
    force: Flags.boolean({summary: 'replace an existing file'}),
  }

  async run() {
    const file = this.settings.require('metadata-file')
    const td = this.settings.require('trust-domain')
    const found = await serverIdsForTrustDomain(await this.ctm(), td)
    let serverId: string
    const wanted = this.flags['server-id'] ? normalizeServerId(this.flags['server-id']) : undefined
    if (wanted) {
      if (!found.some((f) => f.serverId === wanted)) {
        throw new UsageError('INVALID_VALUE', `server ID ${wanted} owns no active key for ${td}`, {suggestions: [`found: ${found.map((f) => f.serverId).join(', ')}`]})
      }
      serverId = wanted
    } else if (found.length === 1) {
      serverId = found[0]!.serverId
    } else if (this.canPrompt()) {
      const {select} = await loadPrompts()
      serverId = await select({message: 'Several servers own keys for this trust domain; which one is this?', choices: found.map((f) => ({name: `${f.serverId} (${f.keys.length} keys)`, value: f.serverId}))}, {output: process.stderr})
    } else {
      throw new UsageError('MISSING_FLAG', `${found.length} server IDs own active keys for ${td}: ${found.map((f) => f.serverId).join(', ')}`, {suggestions: ['pass --server-id to choose one']})
    }
    const result = await initMetadataFile({file, serverId, force: this.flags.force})
    this.note(`${result.status} ${result.file} with server ID ${serverId}`)
    this.print(serverId)
    return {...result, candidates: found}
  }
}
