/**
 * Defensive parsers for tpm2-tools YAML output (tpm2-tools 5.x). Everything is read as text (YAML
 * failsafe schema) and numbers are parsed here: `raw: 0x322E3000` must not depend on a YAML
 * library's idea of hex integers, and handles are compared as numbers (getcap prints upper-case
 * hex, evictcontrol lower-case).
 */
import {loadYaml} from '../core/lazy.js'

/** Parses with the failsafe schema; unparsable output reads as "nothing" and callers decide. */
async function yaml(text: string): Promise<unknown> {
  const {load, FAILSAFE_SCHEMA} = await loadYaml()
  try {
    return load(text, {schema: FAILSAFE_SCHEMA})
  } catch {
    return undefined
  }
}

function num(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined
  const t = v.trim()
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t.slice(2), 16)
  if (/^\d+$/.test(t)) return Number(t)
  return undefined
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
}

/** `tpm2_getcap handles-persistent`: "- 0x81000001" lines; nothing at all when empty. */
export async function parsePersistentHandles(stdout: string): Promise<number[]> {
  const doc = await yaml(stdout)
  if (!Array.isArray(doc)) return []
  return doc.map(num).filter((n): n is number => n !== undefined)
}

export interface PublicInfo {
  name?: string
  type: string
  bits?: number
  curve?: string
  exponent?: number
  scheme?: string
  schemeHalg?: string
  attributes: string[]
  attributesRaw?: number
  nameAlg?: string
  symAlg?: string
}

/** `tpm2_readpublic -c H` */
export async function parseReadPublic(stdout: string): Promise<PublicInfo> {
  const d = obj(await yaml(stdout))
  const val = (k: string) => {
    const v = d[k]
    if (typeof v === 'string') return v
    const o = obj(v)
    return typeof o.value === 'string' ? o.value : undefined
  }
  const attrs = obj(d.attributes)
  const attrText = typeof attrs.value === 'string' ? attrs.value : ''
  return {
    name: typeof d.name === 'string' ? d.name : undefined,
    type: val('type') ?? 'unknown',
    bits: num(d.bits),
    curve: val('curve-id'),
    exponent: num(d.exponent),
    scheme: val('scheme'),
    schemeHalg: val('scheme-halg'),
    attributes: attrText ? attrText.split('|').map((a) => a.trim().toLowerCase()) : [],
    attributesRaw: num(attrs.raw),
    nameAlg: val('name-alg'),
    symAlg: val('sym-alg'),
  }
}

export interface TpmIdentity {
  manufacturer?: string
  vendor?: string
  family?: string
  revision?: string
  firmwareVersion?: string
}

/** `tpm2_getcap properties-fixed` */
export async function parseFixedProperties(stdout: string): Promise<TpmIdentity> {
  const d = obj(await yaml(stdout))
  const value = (k: string) => {
    const v = obj(d[k]).value
    return typeof v === 'string' ? v : undefined
  }
  const raw = (k: string) => num(obj(d[k]).raw)
  const fw1 = raw('TPM2_PT_FIRMWARE_VERSION_1')
  const fw2 = raw('TPM2_PT_FIRMWARE_VERSION_2')
  const vendor = [1, 2, 3, 4]
    .map((i) => value(`TPM2_PT_VENDOR_STRING_${i}`) ?? '')
    .join('')
    .replace(/\s+/g, ' ')
    .trim()
  return {
    manufacturer: value('TPM2_PT_MANUFACTURER')?.trim(),
    vendor: vendor || undefined,
    family: value('TPM2_PT_FAMILY_INDICATOR'),
    revision: value('TPM2_PT_REVISION'),
    firmwareVersion: fw1 === undefined ? undefined : `${fw1 >>> 16}.${fw1 & 0xffff}${fw2 === undefined ? '' : `.${fw2 >>> 16}.${fw2 & 0xffff}`}`,
  }
}

/** The key kind trustctl provisions: RSA-2048, RSASSA with SHA-256, a signing key that is not restricted. */
export function isSigningKeyOfOurKind(p: PublicInfo): boolean {
  return (
    p.type === 'rsa' &&
    p.bits === 2048 &&
    p.scheme === 'rsassa' &&
    p.schemeHalg === 'sha256' &&
    p.attributes.includes('sign') &&
    !p.attributes.includes('restricted') &&
    !p.attributes.includes('decrypt')
  )
}

/** A storage key (a parent for tpm2_create): restricted decryption key. */
export function isStorageKey(p: PublicInfo): boolean {
  return p.attributes.includes('restricted') && p.attributes.includes('decrypt') && !p.attributes.includes('sign')
}

export function describeKey(p: PublicInfo): string {
  const size = p.type === 'rsa' ? `rsa${p.bits ?? '?'}` : p.type === 'ecc' ? `ecc ${p.curve ?? ''}`.trim() : p.type
  return `${size}${p.scheme ? ` ${p.scheme}${p.schemeHalg && p.schemeHalg !== 'null' ? `/${p.schemeHalg}` : ''}` : ''} [${p.attributes.join('|')}]`
}
