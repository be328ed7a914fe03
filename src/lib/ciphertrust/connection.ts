import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'

import type {Settings} from '../core/config.js'
import {UsageError} from '../core/errors.js'
import {loadYaml} from '../core/lazy.js'
import type {Logger} from '../core/log.js'
import {registerSecret} from '../core/log.js'
import type {CtmConnection} from './client.js'

/** ksctl's own config file: existing ksctl users need no new set-up. */
export interface KsctlConfig {
  KSCTL_URL?: string
  KSCTL_USERNAME?: string
  KSCTL_PASSWORD?: string
  KSCTL_NOSSLVERIFY?: string
  KSCTL_TIMEOUT?: string
}

export async function readKsctlConfig(path: string): Promise<KsctlConfig> {
  const file = path.startsWith('~/') ? join(homedir(), path.slice(2)) : path
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return {}
  }
  const yaml = await loadYaml()
  let doc: unknown
  try {
    doc = yaml.load(text, {schema: yaml.FAILSAFE_SCHEMA})
  } catch {
    throw new UsageError('CONFIG_INVALID', `ksctl config ${file} is not valid YAML`)
  }
  const out = (doc && typeof doc === 'object' ? doc : {}) as KsctlConfig
  registerSecret(out.KSCTL_PASSWORD)
  return out
}

/**
 * The CipherTrust connection: flag > TRUSTCTL_CTM_* > .env > profile (resolved by Settings), then
 * ksctl's config file. The password may come from a prompt (the caller passes one when allowed).
 */
export async function ctmConnection(settings: Settings, logger: Logger, prompt?: () => Promise<string>): Promise<CtmConnection> {
  const ks = await readKsctlConfig(settings.string('ksctl-config') ?? '~/.ksctl/config.yaml')
  const url = settings.string('ctm-url') ?? ks.KSCTL_URL
  if (!url) {
    throw new UsageError('MISSING_FLAG', 'no CipherTrust Manager URL', {suggestions: ['pass --url https://ctm.example.com, set TRUSTCTL_CTM_URL, add ctm-url to the profile, or KSCTL_URL to ~/.ksctl/config.yaml']})
  }
  settings.url('ctm-url') // validates when given as a setting
  const refreshToken = await settings.secret('ctm-refresh-token')
  let password = (await settings.secret('ctm-password')) ?? ks.KSCTL_PASSWORD
  if (!password && !refreshToken && prompt) password = await prompt()
  const insecure = settings.get('insecure').source !== 'default' ? settings.boolean('insecure') : /^(true|yes|1)$/i.test(ks.KSCTL_NOSSLVERIFY ?? '')
  if (insecure && settings.get('insecure').source === 'default') logger.warn('TLS verification disabled by KSCTL_NOSSLVERIFY in the ksctl config')
  const timeoutMs = settings.get('timeout').source !== 'default' ? settings.duration('timeout') : ks.KSCTL_TIMEOUT ? Number(ks.KSCTL_TIMEOUT) * 1000 : settings.duration('timeout')
  return {
    url,
    username: settings.string('ctm-username') ?? ks.KSCTL_USERNAME,
    ...(password ? {password} : {}),
    ...(refreshToken ? {refreshToken} : {}),
    domain: settings.string('ctm-domain'),
    authDomain: settings.string('ctm-auth-domain'),
    caFile: settings.string('ca-file'),
    insecure,
    timeoutMs,
    logger,
  }
}
