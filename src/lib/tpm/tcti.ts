import {createHash} from 'node:crypto'
import {accessSync, constants} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'

import {UsageError} from '../core/errors.js'

/** A TCTI string as tpm2-tools takes it, with what trustctl needs to know about it. */
export interface Tcti {
  text: string
  kind: 'device' | 'swtpm-unix' | 'swtpm-tcp' | 'other'
  /** Device file or data socket path, when known. */
  path?: string
  host?: string
  port?: number
}

export function parseTcti(text: string): Tcti {
  const [name = '', conf = ''] = splitOnce(text.trim(), ':')
  const opts = Object.fromEntries(
    conf
      .split(',')
      .filter(Boolean)
      .map((kv) => splitOnce(kv, '=')),
  ) as Record<string, string>
  if (name === 'device') return {text, kind: 'device', path: conf && !conf.includes('=') ? conf : (opts.path ?? '/dev/tpm0')}
  if (name === 'swtpm') {
    if (opts.path) return {text, kind: 'swtpm-unix', path: opts.path}
    const port = Number(opts.port ?? 2321)
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError('INVALID_VALUE', `TCTI "${text}": port "${opts.port}" is not a TCP port (1-65535)`)
    return {text, kind: 'swtpm-tcp', host: opts.host ?? '127.0.0.1', port}
  }
  return {text, kind: 'other'}
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep)
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)]
}

/**
 * Where the advisory lock of a TPM lives: next to the swtpm socket, or (for devices, whose
 * directory is not writable) in /run/lock, else the temp directory, named after the device.
 */
export function lockPathFor(tcti: Tcti): string {
  if (tcti.kind === 'swtpm-unix' && tcti.path) return join(dirname(tcti.path), `.${basename(tcti.path)}.trustctl.lock`)
  const id =
    tcti.kind === 'device' && tcti.path
      ? basename(tcti.path)
      : createHash('sha256').update(tcti.text).digest('hex').slice(0, 16)
  for (const dir of ['/run/lock', tmpdir()]) {
    try {
      accessSync(dir, constants.W_OK)
      return join(dir, `trustctl-tpm-${id}.lock`)
    } catch {
      /* next */
    }
  }
  return join(tmpdir(), `trustctl-tpm-${id}.lock`)
}
