import {randomUUID} from 'node:crypto'

import {MetadataError} from './errors.js'

/** The canonical 36-character form the plugin's parser accepts: 8-4-4-4-12 hex digits. */
export const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

export function isServerId(text: string): boolean {
  return UUID_RE.test(text)
}

/** Validates a server ID given by the user and normalises it to lowercase. */
export function normalizeServerId(input: string): string {
  const t = input.trim()
  if (!UUID_RE.test(t)) {
    throw new MetadataError('INVALID_SERVER_ID', `"${printable(input)}" is not a UUID`, {
      suggestions: ['give a UUID in the 36-character form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, or omit --server-id to generate one'],
    })
  }
  return t.toLowerCase()
}

export function newServerId(): string {
  return randomUUID()
}

/** A short, safe rendering of arbitrary file or flag content for error messages. */
export function printable(text: string, max = 48): string {
  const shown = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text)
  return shown.slice(1, -1)
}
