import {Flags} from '@oclif/core'

import {BaseCommand, settingFlag} from '../../base-command.js'
import {TpmClient, type ProvisionReport} from '../../lib/tpm/client.js'
import {handleSetting, tpmOptions} from '../../lib/tpm/options.js'

export default class TpmProvision extends BaseCommand<typeof TpmProvision> {
  static override summary = 'Create the storage key and the RSA-2048 signing key in the TPM, if missing'
  static override description = `Idempotent: ensures a storage key (TCG RSA-2048 SRK template) at the SRK handle, then an RSA-2048
RSASSA/SHA-256 signing key under it at the signing handle (the seed README's tpm2_create / tpm2_load
/ tpm2_evictcontrol sequence), reporting "created" or "unchanged" for each. Transient objects are
flushed after each step, also when a step fails.

A signing handle occupied by a key of another kind exits 8 unless --force, which evicts it and creates
the signing key there. The storage key is never replaced. --dry-run prints the tpm2 commands it would
run and changes nothing. If the owner hierarchy has a password, give it with --owner-auth-file.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --tcti swtpm:path=/run/swtpm/sock --dry-run',
    '<%= config.bin %> <%= command.id %> --owner-auth-file /root/tpm-owner.pw --json',
  ]

  static override flags = {
    handle: settingFlag('tpm-handle'),
    'srk-handle': settingFlag('srk-handle'),
    'owner-auth-file': settingFlag('owner-auth-file'),
    force: Flags.boolean({summary: 'evict an object of another kind at the signing handle and create the key there'}),
    'dry-run': Flags.boolean({summary: 'print the tpm2 commands that would run; change nothing'}),
    tcti: settingFlag('tcti'),
    'tpm-timeout': settingFlag('tpm-timeout'),
  }

  async run(): Promise<ProvisionReport> {
    const client = new TpmClient(tpmOptions(this.settings, this.logger))
    const report = await client.provision({
      handle: handleSetting(this.settings, 'tpm-handle'),
      srkHandle: handleSetting(this.settings, 'srk-handle'),
      ownerAuth: await this.settings.secret('owner-auth'),
      force: this.flags.force,
      dryRun: this.flags['dry-run'],
    })
    const lines = [
      `storage key ${report.srk.handle}: ${report.srk.status}`,
      `signing key ${report.key.handle}: ${report.key.status}${report.key.fingerprintSha256 ? ` (SHA256:${report.key.fingerprintSha256})` : ''}`,
    ]
    if (report.dryRun) lines.unshift('dry run: nothing was changed; these commands would run:', ...report.commands.map((c) => `  ${c}`), '')
    this.print(lines.join('\n'))
    return report
  }
}
