import {promises as fs, type Stats} from 'node:fs'
import {resolve} from 'node:path'

import {writeFileAtomic} from '../core/atomic-file.js'
import {fileErrorFrom, isTrustctlError} from '../core/errors.js'
import {formatMode, groupName, userName} from '../core/owner.js'
import {MetadataError, type MetadataErrorCode} from './errors.js'
import {derivePluginNames, normalizeTrustDomain, type PluginDerivation} from './plugin-labels.js'
import {isServerId, newServerId, normalizeServerId, printable} from './server-id.js'

/** Mode of the key-metadata file, as the plugin writes it. */
export const METADATA_FILE_MODE = 0o600
/** Mode of parent directories trustctl creates for it. */
export const METADATA_DIR_MODE = 0o700

export interface FileFacts {
  mode: string
  owner: {uid: number; user: string | undefined; gid: number; group: string | undefined}
  size: number
}

export interface InitOptions {
  file: string
  serverId?: string
  force?: boolean
  dryRun?: boolean
}

export interface InitResult {
  file: string
  serverId: string
  /** unchanged: the file already held this ID; updated: it did, and only its mode was corrected to 0600. */
  status: 'created' | 'replaced' | 'unchanged' | 'updated'
  /** The server ID the file held before --force replaced it: keys labelled with it are no longer found by the plugin. */
  previousServerId?: string
  mode: string
  dryRun: boolean
}

/**
 * Creates the key-metadata file with a fresh (or given) server ID, mode 0600, atomically.
 * Re-running with the same --server-id is a no-op ("unchanged"); any other existing file is
 * only replaced with --force.
 */
export async function initMetadataFile(opts: InitOptions): Promise<InitResult> {
  const file = resolve(opts.file)
  const wanted = opts.serverId === undefined ? undefined : normalizeServerId(opts.serverId)
  const current = await readCurrent(file)
  const mode = formatMode(METADATA_FILE_MODE)

  if (current.exists) {
    if (current.isDirectory) {
      throw new MetadataError('NOT_REGULAR_FILE', `${file} is a directory, not a key-metadata file`, {
        suggestions: ['give the path of the file itself, e.g. /opt/spire/ctmkms/ctmkms-key-metadata'],
      })
    }
    const existingId = current.content !== undefined && isServerId(current.content) ? current.content.toLowerCase() : undefined
    if (wanted !== undefined && current.content === wanted) {
      if (current.modeOk) return {file, serverId: wanted, status: 'unchanged', mode, dryRun: Boolean(opts.dryRun)}
      if (!opts.dryRun) {
        try {
          await fs.chmod(file, METADATA_FILE_MODE)
        } catch (err) {
          throw fileErrorFrom(err, file, 'chmod')
        }
      }
      return {file, serverId: wanted, status: 'updated', mode, dryRun: Boolean(opts.dryRun)}
    }
    if (!opts.force) {
      throw new MetadataError('EXISTS', `${file} already exists${existingId ? ` and holds server ID ${existingId}` : ''}; not replacing it`, {
        suggestions: [
          existingId
            ? 'keep it (the plugin finds its keys by this ID), or pass --force to replace it: keys labelled with the old ID are then no longer found'
            : 'run "trustctl metadata check" to see what is wrong with it, or pass --force to replace it',
        ],
        details: {file, ...(existingId ? {serverId: existingId} : {})},
      })
    }
    const serverId = wanted ?? newServerId()
    if (!opts.dryRun) await writeFileAtomic(file, serverId, {mode: METADATA_FILE_MODE, dirMode: METADATA_DIR_MODE, force: true})
    return {
      file,
      serverId,
      status: 'replaced',
      ...(existingId && existingId !== serverId ? {previousServerId: existingId} : {}),
      mode,
      dryRun: Boolean(opts.dryRun),
    }
  }

  const serverId = wanted ?? newServerId()
  if (!opts.dryRun) {
    try {
      await writeFileAtomic(file, serverId, {mode: METADATA_FILE_MODE, dirMode: METADATA_DIR_MODE, force: false})
    } catch (err) {
      if (isTrustctlError(err) && err.code === 'FILE_EXISTS') {
        throw new MetadataError('EXISTS', `${file} was created by someone else meanwhile; not replacing it`, {suggestions: ['run the command again']})
      }
      throw err
    }
  }
  return {file, serverId, status: 'created', mode, dryRun: Boolean(opts.dryRun)}
}

interface CurrentState {
  exists: boolean
  isDirectory?: boolean
  content?: string
  modeOk?: boolean
}

async function readCurrent(file: string): Promise<CurrentState> {
  let st: Stats
  try {
    st = await fs.stat(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {exists: false}
    throw fileErrorFrom(err, file, 'inspect')
  }
  if (st.isDirectory()) return {exists: true, isDirectory: true}
  let content: string | undefined
  try {
    content = await fs.readFile(file, 'utf8')
  } catch {
    content = undefined
  }
  return {exists: true, content, modeOk: (st.mode & 0o777) === METADATA_FILE_MODE}
}

export interface CheckProblem {
  code: MetadataErrorCode
  message: string
  fix: string
}

export interface CheckResult {
  file: string
  ok: boolean
  serverId?: string
  facts?: FileFacts
  problems: CheckProblem[]
  /** Things that do not stop the plugin but deserve attention. */
  notes: string[]
}

/** Everything the plugin's loader would object to, plus the file's mode, in one report. */
export async function checkMetadataFile(path: string): Promise<CheckResult> {
  const file = resolve(path)
  const problems: CheckProblem[] = []
  const notes: string[] = []
  const result = (facts?: FileFacts, serverId?: string): CheckResult => ({
    file,
    ok: problems.length === 0,
    ...(serverId ? {serverId} : {}),
    ...(facts ? {facts} : {}),
    problems,
    notes,
  })

  let st: Stats
  try {
    st = await fs.stat(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      problems.push({
        code: 'MISSING',
        message: `${file} does not exist`,
        fix: `create it with "trustctl metadata init --file ${file}" (or restore it from backup: a new ID means the plugin loses track of its keys)`,
      })
    } else {
      problems.push({code: 'UNREADABLE', message: `cannot inspect ${file}: ${(err as Error).message}`, fix: 'check the permissions of its directories'})
    }
    return result()
  }
  const facts = factsOf(st)
  if (!st.isFile()) {
    problems.push({code: 'NOT_REGULAR_FILE', message: `${file} is ${st.isDirectory() ? 'a directory' : 'not a regular file'}`, fix: 'point key_metadata_file at a regular file'})
    return result(facts)
  }
  let content: string
  try {
    content = await fs.readFile(file, 'utf8')
  } catch (err) {
    problems.push({
      code: 'UNREADABLE',
      message: `${file} cannot be read: ${(err as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (err as Error).message}`,
      fix: `run as the user SPIRE runs as, or give it the file: chown <spire-user> ${file} && chmod 600 ${file}`,
    })
    return result(facts)
  }
  let serverId: string | undefined
  if (content.length === 0) {
    problems.push({code: 'EMPTY', message: `${file} is empty`, fix: `restore the server ID from backup, or write a new one with "trustctl metadata init --file ${file} --force"`})
  } else if (/^[^\s]+\r?\n$/.test(content) && isServerId(content.trimEnd())) {
    problems.push({
      code: 'TRAILING_NEWLINE',
      message: `${file} ends with a newline after the server ID; the plugin expects exactly 36 characters`,
      fix: `rewrite it without the newline: trustctl metadata init --file ${file} --server-id ${content.trimEnd().toLowerCase()} --force`,
    })
  } else if (content.trim() !== content && isServerId(content.trim())) {
    problems.push({
      code: 'WHITESPACE',
      message: `${file} has whitespace around the server ID; the plugin expects exactly 36 characters`,
      fix: `rewrite it without whitespace: trustctl metadata init --file ${file} --server-id ${content.trim().toLowerCase()} --force`,
    })
  } else if (!isServerId(content)) {
    problems.push({
      code: 'NOT_A_UUID',
      message: `${file} does not hold a UUID (${content.length} bytes, starting "${printable(content, 24)}")`,
      fix: `restore the server ID from backup, or write a new one with "trustctl metadata init --file ${file} --force" (the plugin then creates new keys)`,
    })
  } else {
    serverId = content
    if (content !== content.toLowerCase()) notes.push('the server ID is in upper case; the plugin accepts it, and labels keys with it as written')
  }
  if ((st.mode & 0o077) !== 0) {
    const who = [(st.mode & 0o070) !== 0 ? 'group' : '', (st.mode & 0o007) !== 0 ? 'others' : ''].filter(Boolean).join(' and ')
    problems.push({
      code: 'PERMISSIVE_MODE',
      message: `${file} has mode ${facts.mode}, which gives ${who} access to it`,
      fix: `chmod 600 ${file}`,
    })
  }
  return result(facts, serverId)
}

/** Throws the first problem of a check as a MetadataError (exit 6) that lists all of them. */
export function throwIfProblems(check: CheckResult): void {
  const first = check.problems[0]
  if (!first) return
  const more = check.problems.length > 1 ? ` (and ${check.problems.length - 1} more problem${check.problems.length > 2 ? 's' : ''})` : ''
  throw new MetadataError(first.code, `${first.message}${more}`, {
    suggestions: check.problems.map((p) => p.fix),
    details: {file: check.file, problems: check.problems},
  })
}

export interface ShowResult {
  file: string
  serverId: string
  mode: string
  owner: FileFacts['owner']
  problems: CheckProblem[]
  plugin?: PluginDerivation
}

/** The server ID and file facts; with a trust domain, what the plugin derives from them. */
export async function showMetadataFile(path: string, trustDomain?: string): Promise<ShowResult> {
  if (trustDomain !== undefined) normalizeTrustDomain(trustDomain) // bad input fails before any file access
  const check = await checkMetadataFile(path)
  const fatal = check.problems.find((p) => p.code !== 'PERMISSIVE_MODE')
  if (fatal?.code === 'MISSING') {
    throw new MetadataError('NOT_FOUND', fatal.message, {
      suggestions: [fatal.fix],
      details: {file: check.file},
    })
  }
  if (fatal || !check.serverId || !check.facts) {
    throwIfProblems({...check, problems: check.problems.filter((p) => p.code !== 'PERMISSIVE_MODE')})
    throw new Error('unreachable: a check without server ID has problems')
  }
  return {
    file: check.file,
    serverId: check.serverId,
    mode: check.facts.mode,
    owner: check.facts.owner,
    problems: check.problems,
    ...(trustDomain === undefined ? {} : {plugin: derivePluginNames(check.serverId, trustDomain)}),
  }
}

function factsOf(st: Stats): FileFacts {
  return {
    mode: formatMode(st.mode),
    owner: {uid: st.uid, user: userName(st.uid), gid: st.gid, group: groupName(st.gid)},
    size: st.size,
  }
}
