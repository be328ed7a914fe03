// Response bodies of the three services (spec §6.1): the v2 envelope {code, status, results}, the
// JSON:API error list of the 7.14+ framework, and the empty-bodied answers of that framework.
import {STATUS_CODES} from 'node:http'

function write(res, status, text, type, headers = {}) {
  res.writeHead(status, {...headers, ...(type ? {'content-type': type, 'content-length': Buffer.byteLength(text)} : {})})
  res.end(text)
}

/** {code, status, results}; `status` defaults to the HTTP reason phrase and `results` to {} (spec §6.1). */
export function envelope(res, code, status = STATUS_CODES[code], results = {}, headers = {}) {
  write(res, code, JSON.stringify({code, status, results}), 'application/json', headers)
}

export const success = (res, results) => envelope(res, 200, 'Success', results)

/**
 * Tornado's write_error (an uncaught exception in a verifier handler): the same envelope, but sent
 * as text/json, which is what keylime's BaseHandler.write_error sets.
 */
export function tornadoError(res, code) {
  write(res, code, JSON.stringify({code, status: STATUS_CODES[code], results: {}}), 'text/json')
}

/** The 7.14+ authorization denial (spec §3.1, §6.2). The media type is INFERRED from JSON:API. */
export function jsonApiError(res, code, detail) {
  write(res, code, JSON.stringify({errors: [{status: String(code), title: STATUS_CODES[code], detail}]}), 'application/vnd.api+json')
}

/** keylime/web Controller.send_response(code) without a body, and actix's bare 405 for a resource. */
export function empty(res, code, headers = {}) {
  res.writeHead(code, headers)
  res.end()
}

/**
 * Real routes this emulator does not implement. 501 with a body that names the emulator, so a
 * client test that wanders there fails loudly instead of seeing a plausible Keylime answer.
 */
export function notEmulated(res, what) {
  envelope(res, 501, `Not emulated by the trustctl Keylime emulator: ${what}`)
}
