import {readFile} from 'node:fs/promises'

import {fileErrorFrom, UsageError} from './errors.js'
import {registerSecret} from './log.js'

/** A secret from a file (one trailing newline removed), registered for redaction. */
export async function readSecretFile(path: string, flag: string): Promise<string> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new UsageError('SECRET_UNREADABLE', `${flag}: ${fileErrorFrom(err, path, 'read').message}`)
  }
  const value = text.replace(/\r?\n$/, '')
  if (!value) throw new UsageError('SECRET_UNREADABLE', `${flag}: ${path} is empty`)
  registerSecret(value)
  return value
}
