import {BundleError} from './errors.js'

/** JWS compact serialization helpers: strict base64url, JSON objects only, precise errors. */

const B64URL = /^[A-Za-z0-9_-]*$/

export function b64url(data: Uint8Array | string): string {
  return Buffer.from(data).toString('base64url')
}

export interface DecodedJws {
  header: Record<string, unknown>
  payload: Record<string, unknown>
  signingInput: string
  signature: Buffer
}

function decodePart(part: string, name: string, where: string): Buffer {
  if (!B64URL.test(part)) throw new BundleError('TOKEN_MALFORMED', `${where}: the ${name} is not base64url`)
  if (part.length % 4 === 1) throw new BundleError('TOKEN_MALFORMED', `${where}: the ${name} is truncated (impossible base64url length)`)
  return Buffer.from(part, 'base64url')
}

function decodeJson(part: string, name: string, where: string): Record<string, unknown> {
  const bytes = decodePart(part, name, where)
  let v: unknown
  try {
    v = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw new BundleError('TOKEN_MALFORMED', `${where}: the ${name} is not JSON`)
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BundleError('TOKEN_MALFORMED', `${where}: the ${name} is not a JSON object`)
  return v as Record<string, unknown>
}

export function decodeJws(token: string, where: string): DecodedJws {
  const parts = token.split('.')
  if (parts.length !== 3) {
    throw new BundleError('TOKEN_MALFORMED', `${where}: not a JWS compact token (${parts.length} part${parts.length === 1 ? '' : 's'}, expected 3)`)
  }
  const [h, p, s] = parts as [string, string, string]
  const header = decodeJson(h, 'header', where)
  const payload = decodeJson(p, 'payload', where)
  const signature = decodePart(s, 'signature', where)
  return {header, payload, signingInput: `${h}.${p}`, signature}
}

export function encodeJws(header: Record<string, unknown>, payload: Record<string, unknown>, sign: (input: Buffer) => Promise<Buffer>): Promise<string> {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`
  return sign(Buffer.from(input)).then((sig) => `${input}.${b64url(sig)}`)
}
