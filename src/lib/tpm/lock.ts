import {constants, promises as fs} from 'node:fs'

import {TpmError} from './errors.js'

/**
 * One TPM command sequence at a time: parallel tpm2-tools calls against one TPM fail with
 * out-of-memory for sessions (0x903), and swtpm serves one connection at a time. In-process
 * callers queue on a promise chain; other processes are kept out by an advisory lock file
 * (created with O_EXCL, holding the owner's pid; a lock whose pid is dead is taken over).
 */
const queues = new Map<string, Promise<unknown>>()

export async function withTpmLock<T>(lockPath: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const prev = queues.get(lockPath) ?? Promise.resolve()
  let release!: () => void
  const mine = new Promise<void>((r) => (release = r))
  const chained = prev.then(() => mine)
  queues.set(lockPath, chained)
  await prev
  try {
    await acquireFileLock(lockPath, timeoutMs)
    try {
      return await fn()
    } finally {
      await fs.unlink(lockPath).catch(() => undefined)
    }
  } finally {
    release()
    if (queues.get(lockPath) === chained) queues.delete(lockPath)
  }
}

async function acquireFileLock(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let delay = 2
  for (;;) {
    try {
      const h = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644)
      await h.writeFile(String(process.pid))
      await h.close()
      return
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'EEXIST') {
        // Cannot create a lock here (read-only directory, permissions): run unlocked rather than fail.
        if (code === 'EACCES' || code === 'EROFS' || code === 'ENOENT' || code === 'EPERM') return
        throw err
      }
    }
    if (await takeOverIfStale(path)) continue
    if (Date.now() > deadline) {
      const holder = await fs.readFile(path, 'utf8').catch(() => '?')
      throw new TpmError('TPM_BUSY', `the TPM is busy: process ${holder.trim() || '?'} holds ${path} for longer than ${timeoutMs} ms`, {
        suggestions: ['wait for the other trustctl command to finish; if no trustctl runs, remove the lock file'],
      })
    }
    await new Promise((r) => setTimeout(r, delay))
    delay = Math.min(50, delay * 2)
  }
}

async function takeOverIfStale(path: string): Promise<boolean> {
  let pid: number
  try {
    pid = Number((await fs.readFile(path, 'utf8')).trim())
  } catch {
    return true // vanished meanwhile: try again
  }
  if (!Number.isInteger(pid) || pid <= 0) {
    // Being written right now (empty), or garbage: only garbage older than a second is stale.
    const st = await fs.stat(path).catch(() => undefined)
    if (!st || Date.now() - st.mtimeMs < 1000) return false
  } else if (isAlive(pid)) {
    return false
  }
  // Rename first: of several processes that saw the same stale lock, only one wins.
  const grave = `${path}.stale.${process.pid}`
  try {
    await fs.rename(path, grave)
    // If another process took over and locked between our read and rename, give its lock back.
    const moved = (await fs.readFile(grave, 'utf8')).trim()
    if (moved !== String(pid)) await fs.link(grave, path).catch(() => undefined)
    await fs.unlink(grave)
  } catch {
    /* someone else took it over */
  }
  return true
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
