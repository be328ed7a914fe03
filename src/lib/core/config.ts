import {promises as fs, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join, resolve} from 'node:path'
import {parseEnv} from 'node:util'

import {fileErrorFrom, UsageError} from './errors.js'
import {loadYaml} from './lazy.js'
import {registerSecret} from './log.js'
import {SETTINGS, settingDef, type SettingDef, isSettingKey} from './settings.js'
import {parseBoolean, parseDuration, parseInteger, parseUrl} from './values.js'

export type SettingSource = 'flag' | 'env' | '.env' | 'profile' | 'default' | 'unset'

export interface ResolvedSetting {
  key: string
  /** The raw text value. For secrets this is the secret itself: never print it, use display(). */
  value: string | undefined
  source: SettingSource
  /** Where exactly: "--tcti", "TPM2TOOLS_TCTI", "profile lab (~/.config/trustctl/config.yaml)". */
  origin: string | undefined
  secret: boolean
  /** For secrets given by file: the file to read (value is then undefined until read). */
  secretFile?: string
}

export interface ConfigFileInfo {
  path: string
  source: SettingSource
  exists: boolean
  currentProfile: string | undefined
  profiles: Record<string, Record<string, string>>
}

export interface ConfigContext {
  env: NodeJS.ProcessEnv
  dotenv: Record<string, string>
  dotenvPath: string | undefined
  file: ConfigFileInfo
  profileName: string
  profileSource: SettingSource | 'config file'
  profile: Record<string, string>
  warnings: string[]
}

export interface LoadContextOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  /** --config and --profile given on the command line, if any. */
  configFlag?: string
  profileFlag?: string
  home?: string
}

/** Reads `.env` of the working directory; its values never override a real environment variable. */
export function readDotEnv(cwd: string): {path: string | undefined; values: Record<string, string>} {
  const path = join(cwd, '.env')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {path: undefined, values: {}}
    throw fileErrorFrom(err, path, 'read')
  }
  return {path, values: parseEnv(text) as Record<string, string>}
}

/** An environment variable from the real environment, else from .env. */
export function lookupEnv(ctx: Pick<ConfigContext, 'env' | 'dotenv'>, name: string): {value: string; source: 'env' | '.env'} | undefined {
  const real = ctx.env[name]
  if (real !== undefined && real !== '') return {value: real, source: 'env'}
  const dot = ctx.dotenv[name]
  if (dot !== undefined && dot !== '') return {value: dot, source: '.env'}
  return undefined
}

export function defaultConfigPath(env: NodeJS.ProcessEnv, home = homedir()): string {
  const xdg = env.XDG_CONFIG_HOME
  return join(xdg && xdg.startsWith('/') ? xdg : join(home, '.config'), 'trustctl', 'config.yaml')
}

export async function loadConfigContext(opts: LoadContextOptions): Promise<ConfigContext> {
  const dot = readDotEnv(opts.cwd)
  const base = {env: opts.env, dotenv: dot.values}
  const warnings: string[] = []

  let path: string
  let source: SettingSource
  const envConfig = lookupEnv(base, 'TRUSTCTL_CONFIG')
  if (opts.configFlag) {
    path = resolve(opts.cwd, opts.configFlag)
    source = 'flag'
  } else if (envConfig) {
    path = resolve(opts.cwd, envConfig.value)
    source = envConfig.source
  } else {
    path = defaultConfigPath(opts.env, opts.home)
    source = 'default'
  }
  const file = await readConfigFile(path, source, warnings)

  let profileName: string
  let profileSource: ConfigContext['profileSource']
  const envProfile = lookupEnv(base, 'TRUSTCTL_PROFILE')
  if (opts.profileFlag) {
    profileName = opts.profileFlag
    profileSource = 'flag'
  } else if (envProfile) {
    profileName = envProfile.value
    profileSource = envProfile.source
  } else if (file.currentProfile) {
    profileName = file.currentProfile
    profileSource = 'config file'
  } else {
    profileName = 'default'
    profileSource = 'default'
  }
  const profile = file.profiles[profileName]
  if (!profile && profileSource !== 'default') {
    const known = Object.keys(file.profiles)
    throw new UsageError('PROFILE_NOT_FOUND', `profile "${profileName}" does not exist in ${file.exists ? path : `${path} (no such file)`}`, {
      suggestions: [known.length > 0 ? `use one of: ${known.join(', ')}` : `add it under "profiles:" in ${path}`],
      details: {profile: profileName, configFile: path},
    })
  }
  return {env: opts.env, dotenv: dot.values, dotenvPath: dot.path, file, profileName, profileSource, profile: profile ?? {}, warnings}
}

/** A context with no .env, no config file and no profile: only the real environment and defaults. */
export function emptyConfigContext(opts: LoadContextOptions): ConfigContext {
  const path = opts.configFlag ? resolve(opts.cwd, opts.configFlag) : defaultConfigPath(opts.env, opts.home)
  return {
    env: opts.env,
    dotenv: {},
    dotenvPath: undefined,
    file: {path, source: opts.configFlag ? 'flag' : 'default', exists: false, currentProfile: undefined, profiles: {}},
    profileName: opts.profileFlag ?? 'default',
    profileSource: opts.profileFlag ? 'flag' : 'default',
    profile: {},
    warnings: [],
  }
}

async function readConfigFile(path: string, source: SettingSource, warnings: string[]): Promise<ConfigFileInfo> {
  let text: string
  try {
    text = await fs.readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // A missing default file is normal; a missing file the user named is an error.
    if (code === 'ENOENT' && source === 'default') return {path, source, exists: false, currentProfile: undefined, profiles: {}}
    if (code === 'ENOENT') {
      throw new UsageError('CONFIG_INVALID', `config file ${path} does not exist`, {
        suggestions: ['check --config / TRUSTCTL_CONFIG, or create the file'],
      })
    }
    throw fileErrorFrom(err, path, 'read config file')
  }
  return {path, source, exists: true, ...(await parseConfigText(text, path, warnings))}
}

/** Parses the profile file. All scalars stay text (YAML failsafe schema): 0x81008006 is not a number here. */
export async function parseConfigText(text: string, path: string, warnings: string[]): Promise<Pick<ConfigFileInfo, 'currentProfile' | 'profiles'>> {
  // js-yaml is cheap but not free; it is only loaded when a config file exists.
  const yaml = await loadYaml()
  let doc: unknown
  try {
    doc = yaml.load(text, {schema: yaml.FAILSAFE_SCHEMA})
  } catch (err) {
    const mark = (err as {mark?: {line: number; column: number}}).mark
    const where = mark ? `:${mark.line + 1}:${mark.column + 1}` : ''
    const reason = String((err as {reason?: string}).reason ?? (err as Error).message).split('\n')[0]
    throw new UsageError('CONFIG_INVALID', `config file ${path}${where} is not valid YAML: ${reason}`)
  }
  if (doc === undefined || doc === null || doc === '') return {currentProfile: undefined, profiles: {}}
  if (!isPlainObject(doc)) throw new UsageError('CONFIG_INVALID', `config file ${path} must be a YAML mapping with a "profiles:" key`)
  for (const k of Object.keys(doc)) {
    if (k !== 'profiles' && k !== 'current-profile') warnings.push(`config file ${path}: unknown top-level key "${k}" ignored (expected profiles, current-profile)`)
  }
  const current = doc['current-profile']
  if (current !== undefined && typeof current !== 'string') throw new UsageError('CONFIG_INVALID', `config file ${path}: current-profile must be a profile name`)
  const rawProfiles = doc.profiles ?? {}
  if (!isPlainObject(rawProfiles)) throw new UsageError('CONFIG_INVALID', `config file ${path}: "profiles" must be a mapping of profile names to settings`)
  const profiles: Record<string, Record<string, string>> = {}
  for (const [name, body] of Object.entries(rawProfiles)) {
    if (body === null || body === '') {
      profiles[name] = {}
      continue
    }
    if (!isPlainObject(body)) throw new UsageError('CONFIG_INVALID', `config file ${path}: profile "${name}" must be a mapping of settings`)
    const values: Record<string, string> = {}
    for (const [k, v] of Object.entries(body)) {
      if (!isSettingKey(k)) {
        warnings.push(`config file ${path}: profile "${name}" has unknown setting "${k}" (ignored); run "trustctl config show" to list settings`)
        continue
      }
      if (typeof v !== 'string') throw new UsageError('CONFIG_INVALID', `config file ${path}: profile "${name}" setting "${k}" must be a single value`)
      values[k] = v
    }
    profiles[name] = values
  }
  return {currentProfile: current, profiles}
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Resolves one setting: flag > environment > .env > profile > default. */
export function resolveSetting(ctx: ConfigContext, def: SettingDef, flag?: {name: string; value: string | boolean | undefined}): ResolvedSetting {
  const secret = Boolean(def.secret)
  const fileDef = def.fileSetting ? settingDef(def.fileSetting) : undefined
  const done = (value: string | undefined, source: SettingSource, origin: string | undefined, secretFile?: string): ResolvedSetting => {
    if (secret) registerSecret(value)
    return {key: def.key, value, source, origin, secret, ...(secretFile ? {secretFile} : {})}
  }
  if (flag && flag.value !== undefined && flag.value !== '') {
    return done(String(flag.value), 'flag', `--${flag.name}`)
  }
  for (const name of def.env) {
    const hit = lookupEnv(ctx, name)
    if (hit) return done(hit.value, hit.source, name)
  }
  if (fileDef) {
    for (const name of fileDef.env) {
      const hit = lookupEnv(ctx, name)
      if (hit) return done(undefined, hit.source, name, hit.value)
    }
  }
  const where = `profile ${ctx.profileName} (${ctx.file.path})`
  const fromProfile = ctx.profile[def.key]
  if (fromProfile !== undefined && fromProfile !== '') return done(fromProfile, 'profile', where)
  if (fileDef) {
    const f = ctx.profile[fileDef.key]
    if (f) return done(undefined, 'profile', `${where} ${fileDef.key}`, f)
  }
  if (def.default !== undefined) return done(def.default, 'default', undefined)
  return done(undefined, 'unset', undefined)
}

export interface SecretPrompter {
  (label: string): Promise<string>
}

/** The resolved settings of one command run, with typed accessors and precise errors. */
export class Settings {
  private readonly resolved = new Map<string, ResolvedSetting>()

  constructor(
    readonly ctx: ConfigContext,
    /** setting key -> the flag name this command exposes it under */
    private readonly flagNames: Map<string, string>,
    flagValues: Record<string, string | boolean | undefined>,
  ) {
    for (const def of SETTINGS) {
      const flagName = flagNames.get(def.key)
      const flag = flagName ? {name: flagName, value: flagValues[flagName]} : undefined
      let r = resolveSetting(ctx, def, flag)
      // A secret's -file flag is the same precedence level as the secret's own flag.
      if (def.fileSetting && r.source !== 'flag') {
        const fileFlag = flagNames.get(def.fileSetting)
        const fv = fileFlag ? flagValues[fileFlag] : undefined
        if (typeof fv === 'string' && fv !== '') r = {key: def.key, value: undefined, source: 'flag', origin: `--${fileFlag}`, secret: true, secretFile: fv}
      }
      this.resolved.set(def.key, r)
    }
  }

  get(key: string): ResolvedSetting {
    const r = this.resolved.get(key)
    if (!r) throw new Error(`unknown setting ${key}`)
    return r
  }

  all(): ResolvedSetting[] {
    return [...this.resolved.values()]
  }

  string(key: string): string | undefined {
    const r = this.get(key)
    return r.value
  }

  /** The value, or a MISSING_FLAG error that names the flag, the environment variable and the profile key. */
  require(key: string): string {
    const v = this.string(key)
    if (v === undefined || v === '') throw this.missing(key)
    return v
  }

  duration(key: string): number | undefined {
    const r = this.get(key)
    return r.value === undefined ? undefined : parseDuration(r.value, describe(r))
  }

  integer(key: string): number | undefined {
    const r = this.get(key)
    return r.value === undefined ? undefined : parseInteger(r.value, describe(r))
  }

  boolean(key: string): boolean {
    const r = this.get(key)
    return r.value === undefined ? false : parseBoolean(r.value, describe(r))
  }

  url(key: string): URL | undefined {
    const r = this.get(key)
    return r.value === undefined ? undefined : parseUrl(r.value, describe(r))
  }

  /**
   * A secret's value: from a file (trailing newline removed), the flag (warned about by the base
   * command), the environment, the profile, or a prompt when one is allowed.
   */
  async secret(key: string, prompt?: SecretPrompter): Promise<string | undefined> {
    const r = this.get(key)
    if (r.secretFile) {
      let text: string
      try {
        text = await fs.readFile(r.secretFile, 'utf8')
      } catch (err) {
        const fe = fileErrorFrom(err, r.secretFile, `read the ${key} file`)
        throw new UsageError('SECRET_UNREADABLE', fe.message, {suggestions: [`check ${r.origin}`]})
      }
      const value = text.replace(/\r?\n$/, '')
      if (value === '') throw new UsageError('SECRET_UNREADABLE', `the ${key} file ${r.secretFile} is empty`, {suggestions: [`check ${r.origin}`]})
      registerSecret(value)
      return value
    }
    if (r.value !== undefined) return r.value
    if (prompt) {
      const v = await prompt(settingDef(key).description)
      registerSecret(v)
      return v
    }
    return undefined
  }

  async requireSecret(key: string, prompt?: SecretPrompter): Promise<string> {
    const v = await this.secret(key, prompt)
    if (v === undefined || v === '') throw this.missing(key)
    return v
  }

  flagNameOf(key: string): string | undefined {
    return this.flagNames.get(key)
  }

  private missing(key: string): UsageError {
    const def = settingDef(key)
    const flagName = this.flagNames.get(def.fileSetting ?? key) ?? this.flagNames.get(key)
    const fileDef = def.fileSetting ? settingDef(def.fileSetting) : undefined
    const envs = [...def.env, ...(fileDef?.env ?? [])]
    const what = flagName ? `--${flagName}` : def.key
    return new UsageError('MISSING_FLAG', `missing required ${what} (${def.description})`, {
      suggestions: [
        `pass ${what}${envs.length > 0 ? `, or set ${envs.join(' or ')}` : ''}, or add "${fileDef?.key ?? def.key}: ..." to profile "${this.ctx.profileName}" in ${this.ctx.file.path}`,
      ],
      details: {setting: key, flag: flagName ? `--${flagName}` : undefined},
    })
  }
}

function describe(r: ResolvedSetting): string {
  switch (r.source) {
    case 'flag':
      return r.origin ?? r.key
    case 'env':
    case '.env':
      return `${r.origin}${r.source === '.env' ? ' (from .env)' : ''}`
    case 'profile':
      return `${r.key} in ${r.origin}`
    default:
      return `default of ${r.key}`
  }
}
