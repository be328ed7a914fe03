import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'

import type {Settings} from '../core/config.js'
import {fileErrorFrom, UsageError} from '../core/errors.js'
import {loadYaml} from '../core/lazy.js'
import type {Logger} from '../core/log.js'
import {registerSecret} from '../core/log.js'
import {parseBoolean, parseDuration, parseUrl} from '../core/values.js'
import type {CtmConnection} from './client.js'

/** ksctl's own config file: existing ksctl users need no new set-up. */
export interface KsctlConfig {
  KSCTL_URL?: string
  KSCTL_USERNAME?: string
  KSCTL_PASSWORD?: string
  KSCTL_NOSSLVERIFY?: string
  KSCTL_TIMEOUT?: string
}

/** ksctl's config; a missing file at the default place is no config, any other read failure is an error. */
export async function readKsctlConfig(path: string, explicit = false): Promise<KsctlConfig> {
  const file = path.startsWith('~/') ? join(homedir(), path.slice(2)) : path
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw fileErrorFrom(err, file, 'read the ksctl config')
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
export async function ctmConnection(settings: Settings, logger: Logger, prompt?: () => Promise<string>, opts: {passwordLogin?: boolean} = {}): Promise<CtmConnection> {
  const ksPath = settings.get('ksctl-config')
  const ks = await readKsctlConfig(settings.string('ksctl-config') as string, ksPath.source !== 'default')
  const where = `in ${settings.string('ksctl-config')}`
  const url = settings.url('ctm-url') ?? (ks.KSCTL_URL ? parseUrl(ks.KSCTL_URL, `KSCTL_URL ${where}`) : undefined)
  if (!url) {
    throw new UsageError('MISSING_FLAG', 'no CipherTrust Manager URL', {suggestions: ['pass --url https://ctm.example.com, set TRUSTCTL_CTM_URL, add ctm-url to the profile, or KSCTL_URL to ~/.ksctl/config.yaml']})
  }
  // A password login (ctm login, tokens create) must not be satisfied by a stored refresh token.
  const refreshToken = opts.passwordLogin ? undefined : await settings.secret('ctm-refresh-token')
  let password = (await settings.secret('ctm-password')) ?? ks.KSCTL_PASSWORD
  if (!password && !refreshToken && prompt) password = await prompt()
  const insecureSet = settings.get('insecure').source !== 'default'
  const insecure = insecureSet ? settings.boolean('insecure') : ks.KSCTL_NOSSLVERIFY ? parseBoolean(ks.KSCTL_NOSSLVERIFY, `KSCTL_NOSSLVERIFY ${where}`) : false
  if (insecure && !insecureSet) logger.warn('TLS verification disabled by KSCTL_NOSSLVERIFY in the ksctl config')
  // KSCTL_TIMEOUT is in seconds (a bare number is seconds for parseDuration too).
  const timeoutMs = settings.get('timeout').source === 'default' && ks.KSCTL_TIMEOUT ? parseDuration(ks.KSCTL_TIMEOUT, `KSCTL_TIMEOUT ${where}`) : settings.duration('timeout')
  return {
    url: url.href,
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
