// CipherTrust Manager error bodies: {code, codeDesc: "NCERR<Kind>: <text>", message} (spec §1.5).
//
// Sources for the table below:
//   badRequest     status and code 15 CONFIRMED (TD-ERR).
//   notFound       "Resource not found" CONFIRMED (CAP). The kind NCERRResourceNotFound and code 16 are
//                  what Thales' own Terraform provider matches on; spec §11 only suggests "NCERRNotFound".
//   conflict, keyExists  kinds CONFIRMED (ANS); their numeric codes are UNKNOWN.
//   invalidParam   422 is CONFIRMED for an empty group name (TF); NCERRInvalidParamValue is seen in
//                  third-party code; code 9 is a guess. The emulator answers 422 for every
//                  well-formed request whose values are missing or out of range.
//   unauthorized, forbidden, unavailable  INFERRED (spec §11 names); codes UNKNOWN.
const KINDS = {
  badRequest: {status: 400, code: 15, codeDesc: 'NCERRBadRequest: Bad HTTP request'},
  unauthorized: {status: 401, code: 1, codeDesc: 'NCERRUnauthorized: Unauthorized'},
  forbidden: {status: 403, code: 3, codeDesc: 'NCERRForbidden: Forbidden'},
  notFound: {status: 404, code: 16, codeDesc: 'NCERRResourceNotFound: Resource not found'},
  conflict: {status: 409, code: 27, codeDesc: 'NCERRConflict: Resource already exists'},
  keyExists: {status: 409, code: 29, codeDesc: 'NCERRKeyAlreadyExists: Key already exists'},
  invalidParam: {status: 422, code: 9, codeDesc: 'NCERRInvalidParamValue: Invalid parameter value'},
  unavailable: {status: 503, code: 2, codeDesc: 'NCERRServiceUnavailable: Service unavailable'},
}

/** An error the emulator answers with CM's JSON error body. */
export class ApiError extends Error {
  constructor(kind, message) {
    super(message)
    this.kind = KINDS[kind]
  }

  get status() {
    return this.kind.status
  }

  toJSON() {
    return {code: this.kind.code, codeDesc: this.kind.codeDesc, message: this.message}
  }
}

/**
 * A 401 answered in plain text, not JSON: CM does this when the Authorization header is missing
 * (KES parseServerError comment, spec §1.5). The body text itself is UNKNOWN; Go's http.Error style
 * "Unauthorized\n" is used.
 */
export class PlainUnauthorized extends Error {
  constructor() {
    super('Unauthorized')
    this.status = 401
  }
}

export const fail = {
  badRequest: (message) => new ApiError('badRequest', message),
  unauthorized: (message) => new ApiError('unauthorized', message),
  forbidden: (message = 'Forbidden') => new ApiError('forbidden', message),
  notFound: (message = 'Resource not found') => new ApiError('notFound', message),
  conflict: (message) => new ApiError('conflict', message),
  keyExists: (message) => new ApiError('keyExists', message),
  invalid: (message) => new ApiError('invalidParam', message),
  unavailable: (message) => new ApiError('unavailable', message),
}
