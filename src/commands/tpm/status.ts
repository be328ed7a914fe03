import {BaseCommand, settingFlag} from '../../base-command.js'
import {TpmClient, type KeyReport, type StatusReport} from '../../lib/tpm/client.js'
import {handleSetting, tpmOptions} from '../../lib/tpm/options.js'

export default class TpmStatus extends BaseCommand<typeof TpmStatus> {
  static override summary = 'Show the TPM, its persistent handles, and the storage and signing keys'
  static override description = `Reaches the TPM through the resolved TCTI and reports its manufacturer and firmware, the persistent
handles in use, whether the storage key (SRK) and the signing key exist, the signing key's type,
size, scheme and attributes, and the SHA-256 fingerprint of its public key (DER SubjectPublicKeyInfo).
A TPM that cannot be reached exits 5 naming the TCTI.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --tcti swtpm:path=/run/swtpm/sock --json',
    '<%= config.bin %> <%= command.id %> --handle 0x81008007',
  ]

  static override flags = {
    handle: settingFlag('tpm-handle'),
    'srk-handle': settingFlag('srk-handle'),
    tcti: settingFlag('tcti'),
    'tpm-timeout': settingFlag('tpm-timeout'),
  }

  async run(): Promise<StatusReport> {
    const client = new TpmClient(tpmOptions(this.settings, this.logger))
    const report = await client.status(handleSetting(this.settings, 'tpm-handle'), handleSetting(this.settings, 'srk-handle'))
    const key = (name: string, k: KeyReport, expected: string) =>
      k.present ? `${name.padEnd(12)} ${k.handle}  ${k.description}${k.expectedKind ? '' : `  (not ${expected})`}` : `${name.padEnd(12)} ${k.handle}  missing`
    this.print(
      [
        `TPM          ${[report.tpm.manufacturer, report.tpm.vendor].filter(Boolean).join(' / ')}, firmware ${report.tpm.firmwareVersion ?? '?'}, TCTI ${report.tcti}`,
        `persistent   ${report.persistentHandles.join(' ') || '(none)'}`,
        key('storage key', report.srk, 'a storage key'),
        key('signing key', report.key, 'an RSA-2048 RSASSA/SHA-256 signing key'),
        ...(report.key.fingerprintSha256 ? [`fingerprint  SHA256:${report.key.fingerprintSha256}`] : []),
      ].join('\n'),
    )
    return report
  }
}
