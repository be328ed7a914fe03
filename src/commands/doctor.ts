import {BaseCommand, settingFlag} from '../base-command.js'
import {checkConfig, checkNode, checkTpm, checkTpm2Tools, throwIfFailed, type DoctorReport} from '../lib/doctor/checks.js'
import {handleSetting} from '../lib/tpm/options.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Check that this machine can run trustctl: Node.js, config file, tpm2-tools, the TPM and its keys'
  static override description = `Each check is ok, warn or fail, with the fix. Exit 0 when nothing fails; otherwise the exit code
of the first failed check (1 Node.js, 2 config file, 5 tpm2-tools or TPM unreachable). A missing
storage or signing key is a warning: "trustctl tpm provision" creates them. Under --json a failure prints the
error envelope with every check in error.details.checks.`

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json | jq ".checks[] | select(.status != \\"ok\\")"']

  static override flags = {
    tcti: settingFlag('tcti'),
    'tpm-timeout': settingFlag('tpm-timeout'),
    handle: settingFlag('tpm-handle'),
    'srk-handle': settingFlag('srk-handle'),
  }

  static override tolerateConfigErrors = true

  async run(): Promise<DoctorReport> {
    const tcti = this.settings.require('tcti')
    const timeoutMs = this.settings.duration('tpm-timeout') ?? 30_000
    const checks = [checkNode(), checkConfig(this.configCtx, this.configError), await checkTpm2Tools(tcti, timeoutMs)]
    // The TPM is only reachable through tpm2-tools; without them that check would only repeat the failure.
    if (checks[2]?.status !== 'fail') {
      checks.push(...(await checkTpm(tcti, Math.min(timeoutMs, 10_000), handleSetting(this.settings, 'tpm-handle'), handleSetting(this.settings, 'srk-handle'))))
    }
    const report: DoctorReport = {ok: checks.every((c) => c.status !== 'fail'), checks}
    const color = this.colorEnabled()
    const mark = {ok: color ? '\u001B[32m✔\u001B[39m' : 'ok  ', warn: color ? '\u001B[33m!\u001B[39m' : 'warn', fail: color ? '\u001B[31m✖\u001B[39m' : 'FAIL'}
    this.print(
      checks
        .map((c) => `${mark[c.status]} ${c.name.padEnd(12)} ${c.message}${c.fix && c.status !== 'ok' ? `\n     fix: ${c.fix}` : ''}`)
        .join('\n'),
    )
    throwIfFailed(report)
    return report
  }
}
