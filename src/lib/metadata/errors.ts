import {defineErrorClass, ExitCode} from '../core/errors.js'

export const MetadataError = defineErrorClass('MetadataError', {
  INVALID_SERVER_ID: ExitCode.USAGE,
  INVALID_TRUST_DOMAIN: ExitCode.USAGE,
  NOT_FOUND: ExitCode.NOT_FOUND,
  EXISTS: ExitCode.CONFLICT,
  // Problems found by `metadata check` (and by `show` in the content): the plugin would not load the file.
  MISSING: ExitCode.VERIFICATION,
  NOT_REGULAR_FILE: ExitCode.VERIFICATION,
  UNREADABLE: ExitCode.VERIFICATION,
  EMPTY: ExitCode.VERIFICATION,
  TRAILING_NEWLINE: ExitCode.VERIFICATION,
  WHITESPACE: ExitCode.VERIFICATION,
  NOT_A_UUID: ExitCode.VERIFICATION,
  PERMISSIVE_MODE: ExitCode.VERIFICATION,
})
export type MetadataError = InstanceType<typeof MetadataError>
export type MetadataErrorCode = MetadataError['code']
