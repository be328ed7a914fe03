import {defineErrorClass, ExitCode} from '../core/errors.js'

export const KeylimeError = defineErrorClass('KeylimeError', {
  UNREACHABLE: ExitCode.UNAVAILABLE,
  BAD_RESPONSE: ExitCode.UNAVAILABLE,
  NOT_FOUND: ExitCode.NOT_FOUND,
  NOT_PASSING: ExitCode.VERIFICATION,
  INVALID_QUOTE: ExitCode.VERIFICATION,
  CLIENT_CERT_REFUSED: ExitCode.AUTH,
  INVALID_NONCE: ExitCode.USAGE,
  INVALID_AGENT_ID: ExitCode.USAGE,
  NOT_SUPPORTED: ExitCode.USAGE,
  NO_COMMON_VERSION: ExitCode.UNAVAILABLE,
  REJECTED: ExitCode.USAGE,
})
export type KeylimeError = InstanceType<typeof KeylimeError>
