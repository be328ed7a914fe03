import {readFile} from 'node:fs/promises'

import {fileErrorFrom, UsageError} from './errors.js'

/** A JSON file given on the command line, with the flag named in every error. */
export async function readJsonFile(path: string, flag: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw fileErrorFrom(err, path, `read ${flag}`)
  }
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (err) {
    throw new UsageError('INVALID_VALUE', `${flag}: ${path} is not valid JSON (${(err as Error).message})`)
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError('INVALID_VALUE', `${flag}: ${path} must hold a JSON object`)
  return v as Record<string, unknown>
}
