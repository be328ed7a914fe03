import {readFile} from 'node:fs/promises'
import {dirname, isAbsolute, join, resolve} from 'node:path'

import {fileErrorFrom} from '../core/errors.js'
import {loadYaml} from '../core/lazy.js'
import {parseDuration, parseInteger} from '../core/values.js'
import {expandEnv} from '../bundle/keyset-config.js'
import {loadPublicKey, type VerifyKey} from '../bundle/keys.js'
import {parsePersistentHandle} from '../tpm/handles.js'
import {ServiceError} from './listen.js'

/**
 * The reference services' YAML files, read as the Go reference reads them: ${VAR} expanded first,
 * every scalar as text (so `tpm-address: 0x81008006` unquoted stays "0x81008006").
 */
async function loadYamlFile(path: string): Promise<{file: string; doc: Record<string, unknown>}> {
  const file = resolve(path)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw fileErrorFrom(err, file, 'read the config')
  }
  const yaml = await loadYaml()
  let doc: unknown
  try {
    doc = yaml.load(expandEnv(text), {schema: yaml.FAILSAFE_SCHEMA})
  } catch (err) {
    const mark = (err as {mark?: {line: number; column: number}}).mark
    throw new ServiceError('CONFIG_INVALID', `${file}${mark ? `:${mark.line + 1}:${mark.column + 1}` : ''} is not valid YAML`)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ServiceError('CONFIG_INVALID', `${file}: expected a mapping of settings`)
  return {file, doc: doc as Record<string, unknown>}
}

/** body-limit: a positive byte count (a bad value must not switch the limit off). */
function bodyLimit(file: string, doc: Record<string, unknown>): number {
  const n = parseInteger(str(file, doc, 'body-limit', false, String(1024 * 1024)) as string, `${file}: body-limit`)
  if (n < 1) throw new ServiceError('CONFIG_INVALID', `${file}: body-limit must be a positive number of bytes, got ${n}`)
  return n
}

function str(file: string, doc: Record<string, unknown>, key: string, required: boolean, dflt?: string): string | undefined {
  const v = doc[key]
  if (v === undefined || v === '') {
    if (required) throw new ServiceError('CONFIG_INVALID', `${file}: "${key}" is required`)
    return dflt
  }
  if (typeof v !== 'string') throw new ServiceError('CONFIG_INVALID', `${file}: "${key}" must be a single value`)
  return v
}

function relativeTo(file: string, p: string): string {
  return isAbsolute(p) ? p : join(dirname(file), p)
}

export interface SignerUnixConfig {
  file: string
  socket: string
  tpmHandle: number
  durationMs: number
  dir: string
  filename: string
  tmpfile: string
  issuer?: string
  bodyLimit: number
}

export async function loadSignerUnixConfig(path: string): Promise<SignerUnixConfig> {
  const {file, doc} = await loadYamlFile(path)
  const addr = str(file, doc, 'tpm-address', true) as string
  if (!addr.startsWith('0x')) throw new ServiceError('CONFIG_INVALID', `${file}: tpm-address must start with 0x (got "${addr}")`)
  let tpmHandle: number
  try {
    tpmHandle = parsePersistentHandle(addr, `${file}: tpm-address`)
  } catch (err) {
    throw new ServiceError('CONFIG_INVALID', (err as Error).message)
  }
  const duration = str(file, doc, 'duration', true) as string
  let durationMs: number
  try {
    durationMs = parseDuration(duration, `${file}: duration`)
  } catch (err) {
    throw new ServiceError('CONFIG_INVALID', (err as Error).message)
  }
  return {
    file,
    socket: str(file, doc, 'socket', true) as string,
    tpmHandle,
    durationMs,
    // The seed's example omits dir (publish is optional there); default next to the socket's users.
    dir: relativeTo(file, str(file, doc, 'dir', false, '.') as string),
    filename: str(file, doc, 'filename', false, 'spiffetrustbundle.token') as string,
    tmpfile: str(file, doc, 'tmpfile', false, 'spiffetrustbundle.token.tmp') as string,
    issuer: str(file, doc, 'issuer', false),
    bodyLimit: bodyLimit(file, doc),
  }
}

export interface SignerHttpConfig {
  file: string
  socket: string
  keydir: string
  primary: VerifyKey
  backup?: VerifyKey
  listenAddr: string
  allowedAddrs: string[]
  tlsCert?: string
  tlsKey?: string
  bodyLimit: number
  headersTimeoutMs: number
  requestTimeoutMs: number
}

export async function loadSignerHttpConfig(path: string): Promise<SignerHttpConfig> {
  const {file, doc} = await loadYamlFile(path)
  const keydir = relativeTo(file, str(file, doc, 'keydir', false, 'keys') as string)
  const key = async (name: string, role: string) => {
    try {
      return await loadPublicKey(join(keydir, name), name)
    } catch (err) {
      throw new ServiceError('CONFIG_INVALID', `${file}: ${role} key ${name}: ${(err as Error).message}`)
    }
  }
  const allowed = doc['allowed-addrs']
  if (!Array.isArray(allowed) || allowed.length === 0 || allowed.some((a) => typeof a !== 'string')) {
    throw new ServiceError('CONFIG_INVALID', `${file}: "allowed-addrs" must list the IPs or host names allowed to connect`)
  }
  const tlsCert = str(file, doc, 'tls-cert', false)
  const tlsKey = str(file, doc, 'tls-key', false)
  if (Boolean(tlsCert) !== Boolean(tlsKey)) throw new ServiceError('CONFIG_INVALID', `${file}: tls-cert and tls-key go together`)
  const backupName = str(file, doc, 'backup', false)
  const ms = (k: string, d: string) => parseDuration(str(file, doc, k, false, d) as string, `${file}: ${k}`)
  return {
    file,
    socket: str(file, doc, 'socket', true) as string,
    keydir,
    primary: await key(str(file, doc, 'primary', true) as string, 'primary'),
    ...(backupName ? {backup: await key(backupName, 'backup')} : {}),
    listenAddr: str(file, doc, 'listen-addr', true) as string,
    allowedAddrs: allowed as string[],
    ...(tlsCert ? {tlsCert: relativeTo(file, tlsCert), tlsKey: relativeTo(file, tlsKey as string)} : {}),
    bodyLimit: bodyLimit(file, doc),
    headersTimeoutMs: ms('headers-timeout', '5s'),
    requestTimeoutMs: ms('request-timeout', '30s'),
  }
}
