import {defineErrorClass, ExitCode} from '../core/errors.js'

export const CtmError = defineErrorClass('CtmError', {
  AUTH_FAILED: ExitCode.AUTH,
  FORBIDDEN: ExitCode.AUTH,
  NOT_FOUND: ExitCode.NOT_FOUND,
  CONFLICT: ExitCode.CONFLICT,
  BAD_REQUEST: ExitCode.USAGE,
  UNAVAILABLE: ExitCode.UNAVAILABLE,
  TLS_UNTRUSTED: ExitCode.UNAVAILABLE,
  INVALID_RESPONSE: ExitCode.UNAVAILABLE,
})
export type CtmError = InstanceType<typeof CtmError>

/** The CM error body: {code, codeDesc: "NCERR<Kind>: <text>", message}; some errors are plain text. */
export interface CmErrorBody {
  code?: number
  codeDesc?: string
  message?: string
}

export function describeCmError(body: unknown): string {
  if (typeof body === 'string') return body.trim().split('\n')[0] ?? ''
  const b = (body ?? {}) as CmErrorBody
  return [b.message, b.codeDesc].filter(Boolean).join(' — ') || 'no details'
}

/** Maps an HTTP error status of CM to a CtmError with a one-line message and what to do. */
export function ctmErrorFor(status: number, body: unknown, what: string): CtmError {
  const why = describeCmError(body)
  const details = {status, ...(typeof body === 'object' && body ? {body} : {})}
  if (status === 401) {
    return new CtmError('AUTH_FAILED', `${what}: CipherTrust Manager refused the credentials (401: ${why})`, {
      suggestions: ['check --username and the password (--password-file or TRUSTCTL_CTM_PASSWORD), --domain and --auth-domain'],
      details,
    })
  }
  if (status === 403) return new CtmError('FORBIDDEN', `${what}: not permitted (403: ${why})`, {suggestions: ['the user needs a policy that allows this action'], details})
  if (status === 404) return new CtmError('NOT_FOUND', `${what}: not found (${why})`, {suggestions: ['CM also answers 404 when the user may not see the object'], details})
  if (status === 409) return new CtmError('CONFLICT', `${what}: already exists (409: ${why})`, {suggestions: ['pass --if-not-exists to treat an existing object as success'], details})
  if (status === 400 || status === 422) return new CtmError('BAD_REQUEST', `${what}: rejected by CipherTrust Manager (${status}: ${why})`, {details})
  return new CtmError('UNAVAILABLE', `${what}: CipherTrust Manager answered ${status} (${why})`, {suggestions: ['retry later; GET requests were already retried'], details})
}
