import {defineErrorClass, ExitCode} from '../core/errors.js'

/** Trust-bundle tokens: every verification failure is exit 6 with the precise reason. */
export const BundleError = defineErrorClass('BundleError', {
  // verification (exit 6)
  TOKEN_TOO_LARGE: ExitCode.VERIFICATION,
  TOKEN_MALFORMED: ExitCode.VERIFICATION,
  ALG_REJECTED: ExitCode.VERIFICATION,
  SIGNATURE_INVALID: ExitCode.VERIFICATION,
  EXPIRED: ExitCode.VERIFICATION,
  NOT_YET_VALID: ExitCode.VERIFICATION,
  ISSUED_IN_FUTURE: ExitCode.VERIFICATION,
  MISSING_CLAIM: ExitCode.VERIFICATION,
  TOO_MANY_LAYERS: ExitCode.VERIFICATION,
  TOO_FEW_LAYERS: ExitCode.VERIFICATION,
  ISSUER_MISMATCH: ExitCode.VERIFICATION,
  NO_CERTIFICATE: ExitCode.VERIFICATION,
  // inputs (exit 2 / 3 / 7)
  INVALID_BUNDLE: ExitCode.USAGE,
  INVALID_KEY: ExitCode.USAGE,
  CONFIG_INVALID: ExitCode.USAGE,
  KEYSET_NOT_FOUND: ExitCode.NOT_FOUND,
  KEY_NOT_FOUND: ExitCode.NOT_FOUND,
  TOKEN_NOT_FOUND: ExitCode.NOT_FOUND,
  TOKEN_UNAVAILABLE: ExitCode.UNAVAILABLE,
})
export type BundleError = InstanceType<typeof BundleError>
