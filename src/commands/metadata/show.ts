import {BaseCommand, settingFlag} from '../../base-command.js'
import {showMetadataFile, type ShowResult} from '../../lib/metadata/metadata-file.js'

export default class MetadataShow extends BaseCommand<typeof MetadataShow> {
  static override summary = 'Show the server ID in a key-metadata file and what the plugin derives from it'
  static override description = `Prints the server ID, the file's mode and owner. With --trust-domain it also prints what SPIRE's
ciphertrust_kms plugin derives: the labels it puts on its CipherTrust keys (spire-server-td is the
lowercase hex SHA-1 of the trust domain name), the key names spire-key-<server-id>-<spire-key-id>
for SPIRE's key IDs, and the label filter the plugin lists its keys with.
A missing file exits 3; a file the plugin would reject exits 6 (see "metadata check").`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --file /opt/spire/ctmkms/ctmkms-key-metadata',
    '<%= config.bin %> <%= command.id %> --file ctmkms/ctmkms-key-metadata --trust-domain example.org',
    '<%= config.bin %> <%= command.id %> --file ctmkms/ctmkms-key-metadata --trust-domain example.org --json | jq -r .plugin.labels',
  ]

  static override flags = {
    file: settingFlag('metadata-file', {char: 'f'}),
    'trust-domain': settingFlag('trust-domain', {char: 't'}),
  }

  async run(): Promise<ShowResult> {
    const result = await showMetadataFile(this.settings.require('metadata-file'), this.settings.string('trust-domain'))
    for (const p of result.problems) this.logger.warn(`${p.message}; fix: ${p.fix}`)
    const owner = `${result.owner.user ?? result.owner.uid}:${result.owner.group ?? result.owner.gid}`
    const lines = [`server ID:  ${result.serverId}`, `file:       ${result.file}`, `mode:       ${result.mode}`, `owner:      ${owner}`]
    if (result.plugin) {
      const p = result.plugin
      lines.push(
        `trust domain: ${p.trustDomain}`,
        'labels on the plugin\'s keys:',
        ...Object.entries(p.labels).map(([k, v]) => `  ${k.padEnd(18)} ${v}`),
        `key names (${p.keyNamePattern}):`,
        ...p.keys.map((k) => `  ${k.spireKeyId.padEnd(13)} ${k.name}`),
        `label filter:  ${p.labelFilter}`,
        `stale after:   ${p.staleAfterDays} days without spire-last-update`,
      )
    }
    this.print(lines.join('\n'))
    return result
  }
}
