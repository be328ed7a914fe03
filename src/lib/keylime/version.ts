import {KeylimeError} from './errors.js'

/** The API versions trustctl speaks (pull model). */
export const CLIENT_VERSIONS = ['2.0', '2.1', '2.2', '2.3', '2.4', '2.5', '2.6']

export function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number)
  const [bm = 0, bn = 0] = b.split('.').map(Number)
  return am - bm || an - bn
}

/** The highest version both sides support, compared numerically (2.10 > 2.9). */
export function negotiate(service: string, serverVersions: string[], forced?: string): string {
  if (forced) {
    if (!/^\d+\.\d+$/.test(forced)) throw new KeylimeError('NOT_SUPPORTED', `--api-version "${forced}" is not of the form 2.2`)
    return forced
  }
  const common = serverVersions.map((v) => v.replace(/^v/, '')).filter((v) => CLIENT_VERSIONS.includes(v))
  if (common.length === 0) {
    throw new KeylimeError('NO_COMMON_VERSION', `${service} supports API ${serverVersions.join(', ') || 'none'}; trustctl speaks ${CLIENT_VERSIONS.join(', ')}`, {suggestions: ['force one with --api-version']})
  }
  return common.sort(compareVersions).at(-1) as string
}
