import {readdir, readFile, stat} from 'node:fs/promises'
import {dirname, isAbsolute, join, resolve} from 'node:path'

import {fileErrorFrom} from '../core/errors.js'
import {loadYaml} from '../core/lazy.js'
import {BundleError} from './errors.js'
import {loadPublicKey, type VerifyKey} from './keys.js'
import type {Keyset} from './verify.js'

export interface VerifierKeyset extends Keyset {
  name: string
  url: string
  issuers?: string[]
}

export interface VerifierConfig {
  path: string
  keydir: string
  socket?: string
  keysets: Map<string, VerifierKeyset>
}

/** Go's os.ExpandEnv, which the reference applies to the file before parsing: $VAR and ${VAR}; unset is empty. */
export function expandEnv(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(/\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced: string | undefined, bare: string | undefined) => env[(braced ?? bare) as string] ?? '')
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Loads a verifier config in the reference's format, with its start-up validation: every keyset has
 * a url of scheme file, http or https (or a plain path), a non-empty chain, and every chain entry and
 * backup exists in keydir (relative to the config file); every file in keydir must be a PEM public key.
 */
export async function loadVerifierConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<VerifierConfig> {
  const file = resolve(path)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const fe = fileErrorFrom(err, file, 'read verifier config')
    throw new BundleError(fe.code === 'FILE_NOT_FOUND' ? 'KEYSET_NOT_FOUND' : 'CONFIG_INVALID', fe.message)
  }
  const yaml = await loadYaml()
  let doc: unknown
  try {
    doc = yaml.load(expandEnv(text, env), {schema: yaml.FAILSAFE_SCHEMA})
  } catch (err) {
    const mark = (err as {mark?: {line: number; column: number}}).mark
    throw new BundleError('CONFIG_INVALID', `${file}${mark ? `:${mark.line + 1}:${mark.column + 1}` : ''} is not valid YAML`)
  }
  if (!isMap(doc)) throw new BundleError('CONFIG_INVALID', `${file}: expected a mapping with keydir and keyset`)
  const keydirText = doc.keydir === undefined ? 'keys' : doc.keydir
  if (typeof keydirText !== 'string' || keydirText === '') throw new BundleError('CONFIG_INVALID', `${file}: keydir must be a directory name`)
  const keydir = isAbsolute(keydirText) ? keydirText : join(dirname(file), keydirText)
  const ksDoc = doc.keyset
  if (!isMap(ksDoc) || Object.keys(ksDoc).length === 0) throw new BundleError('CONFIG_INVALID', `${file}: no keyset defined (keyset: {name: {url, chain}})`)

  // The reference loads every file of keydir as a public key at start-up.
  let entries: string[]
  try {
    entries = (await readdir(keydir)).filter((f) => !f.startsWith('.'))
  } catch (err) {
    throw new BundleError('CONFIG_INVALID', `${file}: keydir ${keydir} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  const keys = new Map<string, VerifyKey>()
  for (const name of entries) {
    const p = join(keydir, name)
    const st = await stat(p).catch((err: NodeJS.ErrnoException) => {
      throw new BundleError('CONFIG_INVALID', `${file}: ${p} in keydir cannot be read (${err.code ?? err.message}; a dangling link?)`)
    })
    if (!st.isFile()) continue
    try {
      keys.set(name, await loadPublicKey(p, name))
    } catch (err) {
      throw new BundleError('CONFIG_INVALID', `${file}: keydir file ${p}: ${(err as Error).message}`, {suggestions: ['keydir must hold only PEM public keys']})
    }
  }
  const keyNamed = (ks: string, name: unknown, role: string): VerifyKey => {
    if (typeof name !== 'string' || name === '') throw new BundleError('CONFIG_INVALID', `${file}: keyset ${ks}: ${role} must be a key file name`)
    const k = keys.get(name)
    if (!k) throw new BundleError('CONFIG_INVALID', `${file}: keyset ${ks}: ${role} ${name} is not in keydir ${keydir}`, {suggestions: [`copy the public key there, e.g. trustctl tpm pubkey --out ${join(keydir, name)}`]})
    return k
  }

  const keysets = new Map<string, VerifierKeyset>()
  for (const [name, body] of Object.entries(ksDoc)) {
    if (!isMap(body)) throw new BundleError('CONFIG_INVALID', `${file}: keyset ${name} must be a mapping with url and chain`)
    const url = body.url
    if (typeof url !== 'string' || url === '') throw new BundleError('CONFIG_INVALID', `${file}: keyset ${name}: url is not set`)
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase()
    if (scheme && !['file', 'http', 'https'].includes(scheme)) {
      throw new BundleError('CONFIG_INVALID', `${file}: keyset ${name}: url scheme ${scheme} is not supported (file, http, https, or a path)`)
    }
    const chainDoc = body.chain
    if (!Array.isArray(chainDoc) || chainDoc.length === 0) throw new BundleError('CONFIG_INVALID', `${file}: keyset ${name}: chain is empty (list the signers' key files, innermost first)`)
    const chain = chainDoc.map((c, i) => keyNamed(name, c, `chain entry ${i + 1}`))
    const backup = body.backup === undefined ? undefined : keyNamed(name, body.backup, 'backup')
    const issuers = Array.isArray(body.issuers) ? body.issuers.map(String) : undefined
    keysets.set(name, {name, url, chain, ...(backup ? {backup} : {}), ...(issuers ? {issuers} : {})})
  }
  return {path: file, keydir, ...(typeof doc.socket === 'string' ? {socket: doc.socket} : {}), keysets}
}

export function keysetNamed(config: VerifierConfig, name: string): VerifierKeyset {
  const ks = config.keysets.get(name)
  if (!ks) {
    throw new BundleError('KEYSET_NOT_FOUND', `keyset "${name}" is not defined in ${config.path}`, {suggestions: [`use one of: ${[...config.keysets.keys()].join(', ')}`]})
  }
  return ks
}
