import {Flags} from '@oclif/core'

import {BaseCommand, settingFlag} from '../../base-command.js'
import {initMetadataFile, type InitResult} from '../../lib/metadata/metadata-file.js'

export default class MetadataInit extends BaseCommand<typeof MetadataInit> {
  static override summary = "Create the KeyManager plugin's key-metadata file holding a new (or given) server ID"
  static override description = `Writes a UUID (the SPIRE server ID) to the file, exactly 36 characters with no newline, mode 0600,
atomically; missing parent directories are created with mode 0700. The ID is printed on stdout.

SPIRE's ciphertrust_kms plugin (and aws_kms, gcp_kms, azure_key_vault) label every key they create with
this ID. An existing file is never replaced without --force: a new ID makes the plugin lose track of
its keys. Re-running with the same --server-id changes nothing and exits 0.`

  static override examples = [
    {description: 'Create the file with a fresh server ID', command: '<%= config.bin %> <%= command.id %> --file /opt/spire/ctmkms/ctmkms-key-metadata'},
    {description: 'Restore a known server ID (idempotent)', command: '<%= config.bin %> <%= command.id %> --file ctmkms/ctmkms-key-metadata --server-id f2554a90-8ce7-4d73-9788-cf842e31c4ef'},
    {description: 'See what --force would replace, without writing', command: '<%= config.bin %> <%= command.id %> --file ctmkms/ctmkms-key-metadata --force --dry-run --json'},
  ]

  static override flags = {
    file: settingFlag('metadata-file', {char: 'f'}),
    'server-id': Flags.string({summary: 'use this server ID (a UUID; normalised to lower case) instead of a fresh one'}),
    force: Flags.boolean({summary: 'replace an existing file (the plugin then no longer finds keys labelled with the old ID)'}),
    'dry-run': Flags.boolean({summary: 'report what would be written; change nothing'}),
  }

  async run(): Promise<InitResult> {
    const result = await initMetadataFile({
      file: this.settings.require('metadata-file'),
      serverId: this.flags['server-id'],
      force: this.flags.force,
      dryRun: this.flags['dry-run'],
    })
    const dry = result.dryRun ? ' (dry run: nothing written)' : ''
    if (result.previousServerId) {
      this.logger.warn(`replaced server ID ${result.previousServerId}: keys labelled spire-server-id=${result.previousServerId} are no longer found by the plugin${dry}`)
    }
    this.note(`${result.status} ${result.file} (mode ${result.mode})${dry}`)
    this.print(result.serverId)
    return result
  }
}
