import {BundleError} from './errors.js'

/** JWS compact serialization helpers: strict base64url, JSON objects only, precise errors. */

const B64URL_VALUE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

export function b64url(data: Uint8Array | string): string {
  return Buffer.from(data).toString('base64url')
}

export interface DecodedJws {
  header: Record<string, unknown>
  payload: Record<string, unknown>
  /** The bytes the signature covers: header "." payload, as sent (ASCII). */
  signingInput: Buffer
  signature: Buffer
}

function decodePart(part: string, name: string, where: string): Buffer {
  if (part.length % 4 === 1) throw new BundleError('TOKEN_MALFORMED', `${where}: the ${name} is truncated (impossible base64url length)`)
  const bytes = Buffer.from(part, 'base64url')
  // Node's decoder skips characters outside the alphabet (so the output comes out shorter) and also
  // takes base64's + and /: checking the length and those two is a full validation, without a
  // per-character scan in JavaScript over nested payloads.
  if (bytes.length !== Math.floor((part.length * 3) / 4) || part.includes('+') || part.includes('/')) {
    throw new BundleError('TOKEN_MALFORMED', `${where}: the ${name} is not base64url`)
  }
  // Non-canonical encodings (stray bits in the last character) would let a changed token decode to
  // the same bytes: only the one canonical spelling is accepted.
  const unusedBits = part.length % 4 === 2 ? 0b1111 : part.length % 4 === 3 ? 0b11 : 0
  if (unusedBits && (B64URL_VALUE.indexOf(part[part.length - 1] as string) & unusedBits) !== 0) {
    throw new BundleError('TOKEN_MALFORMED', `${where}: the ${name} is not canonical base64url`)
  }
  return bytes
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
  return {header, payload, signingInput: Buffer.from(token.slice(0, h.length + 1 + p.length), 'latin1'), signature}
}

export function encodeJws(header: Record<string, unknown>, payload: Record<string, unknown>, sign: (input: Buffer) => Promise<Buffer>): Promise<string> {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`
  return sign(Buffer.from(input)).then((sig) => `${input}.${b64url(sig)}`)
}
