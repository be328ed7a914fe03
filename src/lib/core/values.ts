import {UsageError} from './errors.js'

/**
 * Parsers for setting values. `where` names the origin ("--tpm-timeout", "TRUSTCTL_TIMEOUT",
 * "tpm-timeout in profile lab (...)") so the error says which input to fix.
 */

const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** "500ms", "30s", "10m", "1h30m", "2d"; a bare number means seconds. Returns milliseconds. */
export function parseDuration(text: string, where: string): number {
  const t = text.trim()
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000)
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy
  let total = 0
  let consumed = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(t)) !== null) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number)
    consumed = re.lastIndex
  }
  if (t === '' || consumed !== t.length) {
    throw new UsageError('INVALID_VALUE', `${where}: "${text}" is not a duration`, {
      suggestions: ['use a number with a unit, e.g. 500ms, 30s, 10m, 1h, 2d'],
    })
  }
  return Math.round(total)
}

export function parseBoolean(text: string, where: string): boolean {
  const t = text.trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(t)) return true
  if (['0', 'false', 'no', 'off'].includes(t)) return false
  throw new UsageError('INVALID_VALUE', `${where}: "${text}" is not a boolean`, {suggestions: ['use true or false']})
}

export function parseInteger(text: string, where: string): number {
  const t = text.trim()
  if (!/^-?\d+$/.test(t) || !Number.isSafeInteger(Number(t))) {
    throw new UsageError('INVALID_VALUE', `${where}: "${text}" is not an integer`)
  }
  return Number(t)
}

export function parseUrl(text: string, where: string): URL {
  let u: URL
  try {
    u = new URL(text.trim())
  } catch {
    throw new UsageError('INVALID_VALUE', `${where}: "${text}" is not a URL`, {suggestions: ['use a full URL such as https://host:443']})
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new UsageError('INVALID_VALUE', `${where}: "${text}" must be an http:// or https:// URL`)
  }
  return u
}
