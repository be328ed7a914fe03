import {readFile} from 'node:fs/promises'
import {resolve} from 'node:path'

import {writeFileAtomic} from '../core/atomic-file.js'

export interface PublicKeyFile {
  path: string
  status: 'created' | 'replaced' | 'unchanged'
}

/** Writes a public key to each path (0644, atomically); identical content is left alone. */
export async function writePublicKeyFiles(pem: string, paths: string[], force: boolean): Promise<PublicKeyFile[]> {
  const out: PublicKeyFile[] = []
  for (const p of paths) {
    const path = resolve(p)
    const current = await readFile(path, 'utf8').catch(() => undefined)
    if (current === pem) {
      out.push({path, status: 'unchanged'})
      continue
    }
    // Public keys are public: the directory is made 0755 so the verifier's user can read it.
    out.push({path, status: await writeFileAtomic(path, pem, {mode: 0o644, dirMode: 0o755, force})})
  }
  return out
}
