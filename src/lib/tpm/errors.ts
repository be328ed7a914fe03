import {defineErrorClass, ExitCode} from '../core/errors.js'

export const TpmError = defineErrorClass('TpmError', {
  HANDLE_NOT_FOUND: ExitCode.NOT_FOUND,
  HANDLE_OCCUPIED: ExitCode.CONFLICT,
  WRONG_KEY_KIND: ExitCode.CONFLICT,
  TCTI_UNAVAILABLE: ExitCode.DEVICE,
  TPM_TIMEOUT: ExitCode.DEVICE,
  TPM_BUSY: ExitCode.DEVICE,
  AUTH_FAILED: ExitCode.AUTH,
  OUT_OF_SESSIONS: ExitCode.DEVICE,
  OUT_OF_OBJECTS: ExitCode.DEVICE,
  TOOL_MISSING: ExitCode.DEVICE,
  NOT_INITIALIZED: ExitCode.DEVICE,
  TPM_FAILURE: ExitCode.DEVICE,
  INVALID_HANDLE: ExitCode.USAGE,
  INVALID_DIGEST: ExitCode.USAGE,
  REFUSED: ExitCode.USAGE,
  TPM_ERROR: ExitCode.DEVICE,
})
export type TpmError = InstanceType<typeof TpmError>
export type TpmErrorCode = TpmError['code']

export interface DecodeContext {
  tool: string
  tcti: string
  /** The handle the failing call was about, for the message. */
  handle?: string
  /** The flag that carries owner authorization in the calling command. */
  ownerAuthFlag?: string
}

/**
 * Decodes a failed tpm2-tools call (rc 1 for almost everything, so stderr is parsed: the stable
 * part is `ERROR: <Api>(0x<RC>) - <text>`) into a named TpmError. See specs/tpm.md §5.2.
 */
export function decodeToolFailure(stderr: string, exitCode: number | null, ctx: DecodeContext): TpmError {
  const rcMatch = /ERROR: \w+\(0x([0-9A-Fa-f]+)\) - ([^\n]*)/.exec(stderr)
  const rc = rcMatch ? Number.parseInt(rcMatch[1] as string, 16) : undefined
  const tpmText = rcMatch?.[2]?.trim()
  const details = {tool: ctx.tool, tcti: ctx.tcti, ...(rc === undefined ? {} : {rc: `0x${rc.toString(16)}`}), stderr: lastErrorLines(stderr)}

  if (/Could not load tcti/.test(stderr) || /Failed to connect/.test(stderr)) {
    return new TpmError('TCTI_UNAVAILABLE', `TPM not reachable through TCTI "${ctx.tcti}"`, {
      suggestions: [
        'check --tcti / TPM2TOOLS_TCTI: device:/dev/tpmrm0 for a hardware TPM, swtpm:path=<socket> for swtpm (its <socket>.ctrl must exist too)',
        'is the TPM (or swtpm) running, and may this user open it?',
      ],
      details,
    })
  }
  if (/Cannot make sense of object context/.test(stderr)) {
    return new TpmError('INVALID_HANDLE', `${ctx.tool}: ${ctx.handle ?? 'the object'} is not a valid handle`, {details})
  }
  const known = rc === undefined ? undefined : decodeRc(rc, ctx, details, tpmText)
  if (known) return known
  const line = tpmText ?? lastErrorLines(stderr).split('\n').pop() ?? `exit ${exitCode}`
  return new TpmError('TPM_ERROR', `${ctx.tool} failed (TCTI ${ctx.tcti}): ${line}`, {details})
}

/** A TPM response code, from tpm2-tools' stderr or straight from a TPM response, as a named error. */
export function decodeRc(rc: number, ctx: DecodeContext, details: Record<string, unknown> = {}, tpmText?: string): TpmError | undefined {
  const what = ctx.handle ? `handle ${ctx.handle}` : 'the object'
  const text = tpmText ?? `response code 0x${rc.toString(16)}`
  switch (rc) {
    case 0x18b:
      return new TpmError('HANDLE_NOT_FOUND', `no object at ${what} in the TPM (TCTI ${ctx.tcti})`, {
        suggestions: ['run "trustctl tpm status" to see the persistent handles in use, or "trustctl tpm provision" to create the keys'],
        details,
      })
    case 0x14c:
      return new TpmError('HANDLE_OCCUPIED', `${what} is already in use in the TPM`, {
        suggestions: ['pick another handle, or evict the object there with "trustctl tpm evict"'],
        details,
      })
    case 0x9a2:
    case 0x98e:
    case 0x921:
      return new TpmError('AUTH_FAILED', `the TPM refused the owner authorization for ${ctx.tool}${rc === 0x921 ? ' (dictionary-attack lockout)' : ''}`, {
        suggestions: [
          `the owner hierarchy has a password: pass it with ${ctx.ownerAuthFlag ?? '--owner-auth-file'} FILE (the file holds the password)`,
        ],
        details,
      })
    case 0x903:
    case 0x902: {
      const sessions = rc === 0x903
      return new TpmError(sessions ? 'OUT_OF_SESSIONS' : 'OUT_OF_OBJECTS', `the TPM is out of memory for ${sessions ? 'session' : 'object'} contexts`, {
        suggestions: [
          sessions
            ? 'another program is using the TPM at the same time; use the kernel resource manager (device:/dev/tpmrm0) or retry'
            : 'transient objects leaked: run "tpm2_flushcontext -t" with the same TCTI, then retry',
        ],
        details,
      })
    }
    case 0x100:
    case 0x101:
      return new TpmError(rc === 0x100 ? 'NOT_INITIALIZED' : 'TPM_FAILURE', `the TPM is not started: ${text}`, {
        suggestions: ['for swtpm, start it with --flags not-need-init,startup-clear; a hardware TPM is started by the firmware'],
        details,
      })
    case 0x1d5:
      return new TpmError('INVALID_DIGEST', `${ctx.tool}: the digest has the wrong size for SHA-256 (32 bytes)`, {details})
    case 0x19c:
    case 0x18a:
      return new TpmError('WRONG_KEY_KIND', `${what} holds a key that cannot be used for this (${text})`, {
        suggestions: ['run "trustctl tpm status" to see what the handle holds'],
        details,
      })
    default:
      return undefined
  }
}

function lastErrorLines(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('ERROR'))
    .slice(-2)
    .join('\n')
}
