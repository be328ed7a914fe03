/**
 * The one error model of trustctl. Every domain defines its own error class with a closed union
 * of string codes, each code bound to one exit code of the table below (DESIGN.md). The base
 * command turns any TrustctlError into the same one-line message, suggestions and exit code in
 * human and JSON mode.
 */

export const ExitCode = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  AUTH: 4,
  DEVICE: 5,
  VERIFICATION: 6,
  UNAVAILABLE: 7,
  CONFLICT: 8,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export const EXIT_CODE_TABLE: ReadonlyArray<{code: ExitCode; meaning: string}> = [
  {code: 0, meaning: 'ok'},
  {code: 1, meaning: 'internal error'},
  {code: 2, meaning: 'usage: bad flag, argument or configuration value'},
  {code: 3, meaning: 'not found'},
  {code: 4, meaning: 'authentication or permission'},
  {code: 5, meaning: 'TPM or device'},
  {code: 6, meaning: 'verification failed (signature, expiry, attestation state, invalid file content)'},
  {code: 7, meaning: 'network or remote service unavailable'},
  {code: 8, meaning: 'conflict (exists, occupied)'},
]

export interface ErrorDetails {
  suggestions?: string[]
  /** Extra machine-readable facts, shown under error.details in --json. Never put secrets here. */
  details?: Record<string, unknown>
  cause?: unknown
}

export abstract class TrustctlError<C extends string = string> extends Error {
  readonly code: C
  readonly exitCode: ExitCode
  readonly suggestions: string[]
  readonly details: Record<string, unknown> | undefined

  protected constructor(code: C, exitCode: ExitCode, message: string, opts: ErrorDetails = {}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = new.target.name
    this.code = code
    this.exitCode = exitCode
    this.suggestions = opts.suggestions ?? []
    this.details = opts.details
  }
}

/** Builds a domain error class whose codes map to exit codes through one table. */
export function defineErrorClass<const T extends Record<string, ExitCode>>(name: string, codes: T) {
  type Code = keyof T & string
  const cls = class extends TrustctlError<Code> {
    static readonly codes = codes
    constructor(code: Code, message: string, opts?: ErrorDetails) {
      super(code, codes[code] as ExitCode, message, opts)
      this.name = name
    }
  }
  Object.defineProperty(cls, 'name', {value: name})
  return cls
}

/** Errors of the shared machinery: flags, config files, profiles, secrets, prompts. */
export const UsageError = defineErrorClass('UsageError', {
  USAGE: ExitCode.USAGE,
  MISSING_FLAG: ExitCode.USAGE,
  INVALID_VALUE: ExitCode.USAGE,
  CONFIG_INVALID: ExitCode.USAGE,
  PROFILE_NOT_FOUND: ExitCode.NOT_FOUND,
  SECRET_UNREADABLE: ExitCode.AUTH,
})
export type UsageError = InstanceType<typeof UsageError>

/** Local files: reading, writing, replacing. */
export const FileError = defineErrorClass('FileError', {
  FILE_NOT_FOUND: ExitCode.NOT_FOUND,
  FILE_EXISTS: ExitCode.CONFLICT,
  FILE_PERMISSION: ExitCode.AUTH,
  FILE_IO: ExitCode.INTERNAL,
})
export type FileError = InstanceType<typeof FileError>

/** Subprocesses (tpm2-tools and friends), before any domain decoding. */
export const ProcessError = defineErrorClass('ProcessError', {
  TOOL_MISSING: ExitCode.DEVICE,
  TOOL_TIMEOUT: ExitCode.DEVICE,
  TOOL_FAILED: ExitCode.DEVICE,
})
export type ProcessError = InstanceType<typeof ProcessError>

/** HTTP transport, before any domain decoding. */
export const NetworkError = defineErrorClass('NetworkError', {
  UNREACHABLE: ExitCode.UNAVAILABLE,
  TIMEOUT: ExitCode.UNAVAILABLE,
  TLS_UNTRUSTED: ExitCode.UNAVAILABLE,
  HTTP_STATUS: ExitCode.UNAVAILABLE,
})
export type NetworkError = InstanceType<typeof NetworkError>

export function isTrustctlError(err: unknown): err is TrustctlError {
  return err instanceof TrustctlError
}

/** Maps a Node.js fs error to a FileError with a one-line message naming the path. */
export function fileErrorFrom(err: unknown, path: string, action: string): TrustctlError {
  if (isTrustctlError(err)) return err
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  switch (code) {
    case 'ENOENT':
      return new FileError('FILE_NOT_FOUND', `cannot ${action} ${path}: no such file or directory`, {cause: err})
    case 'EEXIST':
      return new FileError('FILE_EXISTS', `cannot ${action} ${path}: it already exists`, {cause: err})
    case 'EACCES':
    case 'EPERM':
      return new FileError('FILE_PERMISSION', `cannot ${action} ${path}: permission denied`, {
        cause: err,
        suggestions: ['check the file and directory permissions, or run as the user that owns the file'],
      })
    case 'EISDIR':
      return new FileError('FILE_IO', `cannot ${action} ${path}: it is a directory`, {cause: err})
    case 'ENOTDIR':
      return new FileError('FILE_IO', `cannot ${action} ${path}: a parent of it is not a directory`, {cause: err})
    case 'ENOSPC':
      return new FileError('FILE_IO', `cannot ${action} ${path}: no space left on device`, {cause: err})
    case 'EROFS':
      return new FileError('FILE_PERMISSION', `cannot ${action} ${path}: read-only file system`, {cause: err})
    default:
      return new FileError('FILE_IO', `cannot ${action} ${path}: ${(err as Error)?.message ?? String(err)}`, {cause: err})
  }
}
