import {randomBytes} from 'node:crypto'
import {constants, promises as fs} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import {FileError, fileErrorFrom} from './errors.js'

export interface AtomicWriteOptions {
  /** File mode of the written file, e.g. 0o600 for secrets, 0o644 for public material. Required: no implicit umask modes. */
  mode: number
  /** Mode of parent directories that have to be created (existing ones are left alone). Default 0o700. */
  dirMode?: number
  /** Replace an existing file. Without it an existing file is never touched (FILE_EXISTS, exit 8). */
  force?: boolean
  /**
   * A fixed temporary file name in the same directory (signer-unix's configured `tmpfile`), instead
   * of a random one. Callers serialise writers to one target themselves.
   */
  tmpName?: string
}

export type AtomicWriteStatus = 'created' | 'replaced'

/**
 * Writes a file so that a reader (or a crash at any instant) sees either the old complete file or
 * the new complete file: temp file in the same directory (same file system), fsync, then an
 * atomic rename (with force) or link (without force, so that "refuse to replace" holds even when
 * another process creates the file concurrently), then fsync of the directory.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: AtomicWriteOptions): Promise<AtomicWriteStatus> {
  const dir = dirname(path)
  await ensureDir(dir, opts.dirMode ?? 0o700)

  const existed = await exists(path)
  if (existed && !opts.force) {
    throw new FileError('FILE_EXISTS', `${path} already exists; not replacing it`, {
      suggestions: ['pass --force to replace it'],
      details: {path},
    })
  }

  const tmp = opts.tmpName ? join(dir, basename(opts.tmpName)) : join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  let handle: fs.FileHandle | undefined
  try {
    // A fixed name may be left over from a crash: it is ours to overwrite (it is never the target).
    const flags = opts.tmpName ? constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC : constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL
    handle = await fs.open(tmp, flags, opts.mode)
    await handle.writeFile(data)
    // open() applies the umask; chmod makes the mode exactly what was asked for.
    await handle.chmod(opts.mode)
    await handle.sync()
    await handle.close()
    handle = undefined
    if (opts.force) {
      await fs.rename(tmp, path)
    } else {
      // link() fails with EEXIST instead of replacing: no window for a silent clobber.
      await fs.link(tmp, path)
      await fs.unlink(tmp)
    }
  } catch (err) {
    await handle?.close().catch(() => undefined)
    await fs.unlink(tmp).catch(() => undefined)
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && !opts.force) {
      throw new FileError('FILE_EXISTS', `${path} already exists; not replacing it`, {
        suggestions: ['pass --force to replace it'],
        details: {path},
      })
    }
    throw fileErrorFrom(err, path, 'write')
  }
  await syncDir(dir)
  return existed ? 'replaced' : 'created'
}

/** Creates a directory and its missing parents with the given mode (exact, umask ignored). */
export async function ensureDir(dir: string, mode: number): Promise<void> {
  const missing: string[] = []
  let cur = dir
  for (;;) {
    try {
      const st = await fs.stat(cur)
      if (!st.isDirectory()) throw new FileError('FILE_IO', `cannot create directory ${dir}: ${cur} is not a directory`)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileErrorFrom(err, cur, 'create directory')
      missing.push(cur)
      const parent = dirname(cur)
      if (parent === cur) break
      cur = parent
    }
  }
  for (const d of missing.reverse()) {
    try {
      await fs.mkdir(d, {mode})
      await fs.chmod(d, mode)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fileErrorFrom(err, d, 'create directory')
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw fileErrorFrom(err, path, 'inspect')
  }
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename durable. Some file systems refuse fsync on a directory; the rename itself
  // is still atomic, so that is not an error.
  try {
    const h = await fs.open(dir, constants.O_RDONLY)
    try {
      await h.sync()
    } finally {
      await h.close()
    }
  } catch {
    /* best effort */
  }
}
