import {readFile} from 'node:fs/promises'

import {writeFileAtomic} from './atomic-file.js'
import type {ConfigContext} from './config.js'
import {fileErrorFrom, UsageError} from './errors.js'
import {loadYaml} from './lazy.js'

/**
 * Sets settings in the active profile of the config file, keeping everything else. The file is
 * rewritten atomically with mode 0600 (it may now hold a refresh token). YAML comments are not kept.
 */
export async function saveProfileSettings(ctx: ConfigContext, values: Record<string, string>): Promise<{path: string; profile: string}> {
  const path = ctx.file.path
  const yaml = await loadYaml()
  let doc: Record<string, unknown> = {}
  try {
    const loaded = yaml.load(await readFile(path, 'utf8'), {schema: yaml.FAILSAFE_SCHEMA})
    if (loaded && typeof loaded === 'object' && !Array.isArray(loaded)) doc = loaded as Record<string, unknown>
    else if (loaded !== undefined && loaded !== null && loaded !== '') throw new UsageError('CONFIG_INVALID', `${path} is not a mapping; not rewriting it`)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err instanceof UsageError ? err : fileErrorFrom(err, path, 'read')
  }
  const profiles = (doc.profiles && typeof doc.profiles === 'object' ? doc.profiles : {}) as Record<string, Record<string, string> | null>
  profiles[ctx.profileName] = {...(profiles[ctx.profileName] ?? {}), ...values}
  doc.profiles = profiles
  await writeFileAtomic(path, yaml.dump(doc, {lineWidth: -1}), {mode: 0o600, dirMode: 0o700, force: true})
  return {path, profile: ctx.profileName}
}
