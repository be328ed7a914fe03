import type {ConfigContext} from '../core/config.js'
import {defineErrorClass, ExitCode, isTrustctlError} from '../core/errors.js'
import {runProcess} from '../core/subprocess.js'

export type CheckStatus = 'ok' | 'warn' | 'fail'

/** A failed doctor check; the exit code follows what failed (Node 1, config 2, tpm2-tools 5). */
export const DoctorError = defineErrorClass('DoctorError', {
  NODE_UNSUPPORTED: ExitCode.INTERNAL,
  CONFIG_INVALID: ExitCode.USAGE,
  TPM2_TOOLS_MISSING: ExitCode.DEVICE,
  TPM2_TOOLS_BROKEN: ExitCode.DEVICE,
  TPM_UNREACHABLE: ExitCode.DEVICE,
})
export type DoctorErrorCode = InstanceType<typeof DoctorError>['code']

export interface DoctorCheck {
  name: string
  status: CheckStatus
  message: string
  fix?: string
  /** The error the command fails with when this check fails. */
  errorCode?: DoctorErrorCode
}

export const MIN_NODE = [20, 17] as const
/** tpm2-tools 5.x is what Debian 12 ships (5.4) and what the YAML parsing is written against. */
export const MIN_TPM2_TOOLS = [5, 0] as const

export function checkNode(version = process.versions.node): DoctorCheck {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])
  if (!ok) {
    return {
      name: 'node',
      status: 'fail',
      message: `Node.js v${version} is too old (trustctl needs >= ${MIN_NODE.join('.')})`,
      fix: 'install Node.js 20.17 or later (22 LTS recommended)',
      errorCode: 'NODE_UNSUPPORTED',
    }
  }
  if (major === 20) {
    return {name: 'node', status: 'ok', message: `Node.js v${version} (supported; Node 20 is end-of-life since April 2026, plan a move to 22 LTS)`}
  }
  return {name: 'node', status: 'ok', message: `Node.js v${version}`}
}

export function checkConfig(ctx: ConfigContext, loadError: Error | undefined): DoctorCheck {
  if (loadError) {
    const fix = isTrustctlError(loadError) ? loadError.suggestions[0] : undefined
    return {
      name: 'config',
      status: 'fail',
      message: loadError.message,
      fix: fix ?? `fix or remove ${ctx.file.path}`,
      errorCode: 'CONFIG_INVALID',
    }
  }
  if (!ctx.file.exists) {
    return {name: 'config', status: 'ok', message: `no config file at ${ctx.file.path} (optional; using flags, environment and defaults)`}
  }
  const n = Object.keys(ctx.file.profiles).length
  const status: CheckStatus = ctx.warnings.length > 0 ? 'warn' : 'ok'
  return {
    name: 'config',
    status,
    message: `${ctx.file.path} parses: ${n} profile${n === 1 ? '' : 's'}, using "${ctx.profileName}"${ctx.warnings.length > 0 ? `; ${ctx.warnings.join('; ')}` : ''}`,
    ...(status === 'warn' ? {fix: 'remove or correct the keys named above'} : {}),
  }
}

export function parseTpm2ToolsVersion(output: string): string | undefined {
  // tpm2_getcap -v prints: tool="tpm2_getcap" version="5.4" tctis="libtss2-tctildr" tcti-default=tcti-device
  const m = /version="?([0-9][^"\s]*)"?/.exec(output)
  return m?.[1]
}

export async function checkTpm2Tools(tcti: string, timeoutMs: number): Promise<DoctorCheck> {
  let out: string
  try {
    const r = await runProcess('tpm2_getcap', ['-v'], {timeoutMs, installHint: 'apt-get install tpm2-tools'})
    out = `${r.stdout.toString('utf8')}\n${r.stderr}`
  } catch (err) {
    if (isTrustctlError(err) && err.code === 'TOOL_MISSING') {
      return {name: 'tpm2-tools', status: 'fail', message: 'tpm2-tools is not installed (tpm2_getcap not found on PATH)', fix: 'apt-get install tpm2-tools', errorCode: 'TPM2_TOOLS_MISSING'}
    }
    return {name: 'tpm2-tools', status: 'fail', message: `tpm2_getcap -v failed: ${(err as Error).message}`, fix: 'reinstall tpm2-tools', errorCode: 'TPM2_TOOLS_BROKEN'}
  }
  const version = parseTpm2ToolsVersion(out)
  if (!version) {
    return {name: 'tpm2-tools', status: 'warn', message: `tpm2-tools is installed but its version could not be read (${out.trim().split('\n')[0]})`, fix: 'install tpm2-tools 5.x'}
  }
  const [major = 0, minor = 0] = version.split('.').map((p) => Number.parseInt(p, 10))
  if (major < MIN_TPM2_TOOLS[0] || (major === MIN_TPM2_TOOLS[0] && minor < MIN_TPM2_TOOLS[1])) {
    return {name: 'tpm2-tools', status: 'warn', message: `tpm2-tools ${version} is older than ${MIN_TPM2_TOOLS.join('.')}; output parsing may fail`, fix: 'install tpm2-tools 5.x'}
  }
  return {name: 'tpm2-tools', status: 'ok', message: `tpm2-tools ${version}; TCTI ${tcti}`}
}

/** TPM reachable through the TCTI; storage and signing key present (missing keys warn: provision fixes them). */
export async function checkTpm(tcti: string, timeoutMs: number, handle: number, srkHandle: number): Promise<DoctorCheck[]> {
  const {TpmClient} = await import('../tpm/client.js')
  let status
  try {
    status = await new TpmClient({tcti, timeoutMs}).status(handle, srkHandle)
  } catch (err) {
    const message = (err as Error).message
    return [
      {
        name: 'tpm',
        status: 'fail',
        message,
        fix: isTrustctlError(err) && err.suggestions[0] ? err.suggestions[0] : `check --tcti (now ${tcti})`,
        errorCode: 'TPM_UNREACHABLE',
      },
    ]
  }
  const checks: DoctorCheck[] = [
    {name: 'tpm', status: 'ok', message: `${status.tpm.manufacturer ?? 'TPM'} ${status.tpm.vendor ?? ''} firmware ${status.tpm.firmwareVersion ?? '?'} via ${tcti}`.replace(/\s+/g, ' ')},
  ]
  const srk = status.srk
  checks.push(
    !srk.present
      ? {name: 'storage key', status: 'warn', message: `no storage key at ${srk.handle}`, fix: 'trustctl tpm provision'}
      : srk.expectedKind
        ? {name: 'storage key', status: 'ok', message: `${srk.handle}: ${srk.description}`}
        : {name: 'storage key', status: 'warn', message: `${srk.handle} holds ${srk.description}, not a storage key`, fix: 'use another --srk-handle'},
  )
  const key = status.key
  checks.push(
    !key.present
      ? {name: 'signing key', status: 'warn', message: `no signing key at ${key.handle}`, fix: 'trustctl tpm provision'}
      : key.expectedKind
        ? {name: 'signing key', status: 'ok', message: `${key.handle}: ${key.description}, SHA256:${key.fingerprintSha256}`}
        : {name: 'signing key', status: 'warn', message: `${key.handle} holds ${key.description}, not an RSA-2048 RSASSA/SHA-256 signing key`, fix: 'trustctl tpm provision --force'},
  )
  return checks
}

export interface DoctorReport {
  ok: boolean
  checks: DoctorCheck[]
}

/** Throws the first failed check as a DoctorError carrying every check in its details. */
export function throwIfFailed(report: DoctorReport): void {
  const failed = report.checks.filter((c) => c.status === 'fail')
  const first = failed[0]
  if (!first) return
  throw new DoctorError(first.errorCode ?? 'TPM2_TOOLS_BROKEN', `${failed.length} check${failed.length > 1 ? 's' : ''} failed: ${failed.map((c) => c.message).join('; ')}`, {
    suggestions: failed.map((c) => c.fix).filter((f): f is string => Boolean(f)),
    details: {checks: report.checks},
  })
}
