import {BaseCommand, settingFlag} from '../../base-command.js'
import {checkMetadataFile, throwIfProblems, type CheckResult} from '../../lib/metadata/metadata-file.js'

export default class MetadataCheck extends BaseCommand<typeof MetadataCheck> {
  static override summary = 'Check that the KeyManager plugin would load a key-metadata file as it is'
  static override description = `Exit 0 when the file holds exactly one UUID (36 characters, no newline) and is not accessible to
group or others. Otherwise exit 6 naming the problem and its fix: missing, unreadable, not a
regular file, empty, trailing newline or whitespace, not a UUID, readable by group or others.
Under --json every problem is listed in error.details.problems.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --file /opt/spire/ctmkms/ctmkms-key-metadata',
    {description: 'In a deployment script', command: '<%= config.bin %> <%= command.id %> --file "$META" --json || exit 1'},
  ]

  static override flags = {
    file: settingFlag('metadata-file', {char: 'f'}),
  }

  async run(): Promise<CheckResult> {
    const result = await checkMetadataFile(this.settings.require('metadata-file'))
    throwIfProblems(result)
    for (const n of result.notes) this.logger.warn(n)
    this.print(`ok: ${result.file} holds server ID ${result.serverId} (mode ${result.facts?.mode})`)
    return result
  }
}
