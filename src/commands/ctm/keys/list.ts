import {Flags} from '@oclif/core'

import {CtmCommand} from '../../../ctm-command.js'
import {settingFlag} from '../../../base-command.js'
import {listPluginKeys} from '../../../lib/ciphertrust/keys.js'

export default class CtmKeysList extends CtmCommand<typeof CtmKeysList> {
  static override summary = "List the SPIRE ciphertrust_kms plugin's keys of one server and trust domain"
  static override description = `Finds the keys through CipherTrust's labels filter: spire-server-id (from --server-id or the
key-metadata file), spire-server-td (hex SHA-1 of --trust-domain) and spire-active=true (unless --all).
Shows name, SPIRE key id, version, active, last update, deactivationDate and state. Every page is read.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --metadata-file /opt/spire/ctmkms/ctmkms-key-metadata --trust-domain example.org',
    '<%= config.bin %> <%= command.id %> --trust-domain example.org --all --json',
  ]

  static override flags = {
    'metadata-file': settingFlag('metadata-file'),
    'server-id': Flags.string({summary: 'server ID (instead of reading the key-metadata file)'}),
    'trust-domain': settingFlag('trust-domain'),
    all: Flags.boolean({summary: 'include keys whose spire-active label is not true'}),
  }

  async run() {
    let serverId = this.flags['server-id']
    const file = this.settings.string('metadata-file')
    if (!serverId && file) {
      const {showMetadataFile} = await import('../../../lib/metadata/metadata-file.js')
      serverId = (await showMetadataFile(file)).serverId
    }
    const rows = await listPluginKeys(await this.ctm(), {serverId, trustDomain: this.settings.string('trust-domain'), all: this.flags.all})
    this.print(rows.map((r) => [r.name, r.spireKeyId ?? '-', `v${r.version ?? '?'}`, r.active ? 'active' : 'inactive', r.lastUpdate ?? '-', r.deactivationDate ?? '-', r.state ?? '-'].join('\t')).join('\n') || '(no keys)')
    return {serverId: serverId ?? null, keys: rows}
  }
}
