import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {open} from 'node:fs/promises'
import type {Readable} from 'node:stream'

import {fileErrorFrom} from '../core/errors.js'
import {TpmError} from './errors.js'

function inputStream(source: string): Readable {
  return source === '-' ? process.stdin : createReadStream(source)
}

/** SHA-256 of a file or stdin, streamed (any size). */
export async function sha256OfInput(source: string): Promise<Buffer> {
  const hash = createHash('sha256')
  try {
    for await (const chunk of inputStream(source)) hash.update(chunk as Buffer)
  } catch (err) {
    throw fileErrorFrom(err, source, 'read')
  }
  return hash.digest()
}

/** A digest given by the user: exactly 32 raw bytes, or 64 hex characters (a trailing newline is allowed). */
export async function readDigestInput(source: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    if (source !== '-') await (await open(source, 'r')).close() // clear error for a missing file
    for await (const chunk of inputStream(source)) {
      size += (chunk as Buffer).length
      if (size > 1024) break
      chunks.push(chunk as Buffer)
    }
  } catch (err) {
    throw fileErrorFrom(err, source, 'read')
  }
  const buf = Buffer.concat(chunks)
  if (buf.length === 32) return buf
  const text = buf.toString('latin1').trim()
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex')
  throw new TpmError('INVALID_DIGEST', `--digest expects a SHA-256 digest: 32 bytes or 64 hex characters, got ${size > 1024 ? 'more than 1024' : buf.length} bytes`, {
    suggestions: ['pass the data itself without --digest, or: openssl dgst -sha256 -binary FILE | trustctl tpm sign --digest'],
  })
}
