import {parseBundle, type CertificateInfo} from './certs.js'
import {decodeJws} from './jws.js'
import {ago} from './verify.js'

export interface InspectedLayer {
  /** 1 = innermost. */
  layer: number
  header?: Record<string, unknown>
  claims?: Record<string, unknown>
  times?: Record<string, string>
  error?: string
}

export interface InspectResult {
  verified: false
  warning: string
  layers: InspectedLayer[]
  certificates?: CertificateInfo[]
  bundleError?: string
}

const MAX_DEPTH = 16

/** Decodes every layer WITHOUT verifying anything: for looking, never for trusting. */
export function inspectToken(token: string, now = Date.now()): InspectResult {
  const outerFirst: InspectedLayer[] = []
  let current: string | undefined = token.trim()
  let bundle: string | undefined
  while (current !== undefined && outerFirst.length < MAX_DEPTH) {
    const entry: InspectedLayer = {layer: 0}
    outerFirst.push(entry)
    try {
      const jws = decodeJws(current, `layer ${outerFirst.length} from the outside`)
      const claims: Record<string, unknown> = {...jws.payload}
      const next: string | undefined = typeof claims.jwt === 'string' ? claims.jwt : undefined
      if (next !== undefined) claims.jwt = `<nested token, ${next.length} characters>`
      if (typeof claims.spiffetb === 'string') {
        bundle = claims.spiffetb
        claims.spiffetb = `<PEM bundle, ${bundle.length} characters>`
      }
      entry.header = jws.header
      entry.claims = claims
      entry.times = {}
      for (const k of ['iat', 'nbf', 'exp'] as const) {
        const v = jws.payload[k]
        if (typeof v === 'number') entry.times[k] = `${new Date(v * 1000).toISOString()} (${v * 1000 > now ? 'in ' : ''}${ago(v - now / 1000)}${v * 1000 <= now ? ' ago' : ''})`
      }
      current = next
    } catch (err) {
      entry.error = (err as Error).message
      current = undefined
    }
  }
  const layers = outerFirst.reverse().map((l, i) => ({...l, layer: i + 1}))
  const result: InspectResult = {verified: false, warning: 'NOT VERIFIED: decoded only; no signature, time or issuer was checked', layers}
  if (bundle !== undefined) {
    try {
      result.certificates = parseBundle(bundle)
    } catch (err) {
      result.bundleError = (err as Error).message
    }
  }
  return result
}
