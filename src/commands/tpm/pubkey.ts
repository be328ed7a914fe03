import {Flags} from '@oclif/core'

import {BaseCommand, settingFlag} from '../../base-command.js'
import {TpmClient, fingerprint} from '../../lib/tpm/client.js'
import {handleSetting, tpmOptions} from '../../lib/tpm/options.js'
import {writePublicKeyFiles, type PublicKeyFile} from '../../lib/tpm/pubkey-files.js'

interface PubkeyResult {
  handle: string
  pem: string
  fingerprintSha256: string
  files: PublicKeyFile[]
}

export default class TpmPubkey extends BaseCommand<typeof TpmPubkey> {
  static override summary = "Export the signing key's public key as PEM (SubjectPublicKeyInfo)"
  static override description = `Prints the PEM to stdout, or writes it atomically (mode 0644) to every --out file, so one call writes
main.pem, backup.pem, ... for the verifying hosts (/etc/spire/server-attestor-tpm/keys/). A file that
already holds the same key is left alone ("unchanged"); one holding something else is only replaced
with --force.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --out /etc/spire/server-attestor-tpm/keys/main.pem',
    '<%= config.bin %> <%= command.id %> --out main.pem --out backup/main.pem --json',
  ]

  static override flags = {
    handle: settingFlag('tpm-handle'),
    out: Flags.string({summary: 'write the PEM to this file (repeatable)', multiple: true}),
    force: Flags.boolean({summary: 'replace --out files that hold something else'}),
    tcti: settingFlag('tcti'),
    'tpm-timeout': settingFlag('tpm-timeout'),
  }

  async run(): Promise<PubkeyResult> {
    const handle = handleSetting(this.settings, 'tpm-handle')
    const pem = await new TpmClient(tpmOptions(this.settings, this.logger)).pubkeyPem(handle)
    const files = await writePublicKeyFiles(pem, this.flags.out ?? [], Boolean(this.flags.force))
    if (files.length === 0) this.print(pem)
    for (const f of files) this.note(`${f.status} ${f.path}`)
    return {handle: `0x${handle.toString(16)}`, pem, fingerprintSha256: fingerprint(pem), files}
  }
}
