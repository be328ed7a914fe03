import {Command, Flags, Interfaces} from '@oclif/core'

import {emptyConfigContext, loadConfigContext, Settings, type ConfigContext} from './lib/core/config.js'
import {ExitCode, isTrustctlError, UsageError} from './lib/core/errors.js'
import {createLogger, levelFromEnv, redact, redactJson, type Logger} from './lib/core/log.js'
import {settingDef, type SettingDef} from './lib/core/settings.js'
import {loadPrompts} from './lib/core/lazy.js'

/** Flag objects created by settingFlag(), mapped to the setting they set. */
const SETTING_OF = new WeakMap<object, string>()

interface SettingFlagOptions {
  char?: 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'i' | 'j' | 'k' | 'l' | 'm' | 'n' | 'o' | 'p' | 'q' | 'r' | 's' | 't' | 'u' | 'v' | 'w' | 'x' | 'y' | 'z'
  summary?: string
  helpGroup?: string
}

function settingSummary(def: SettingDef, summary?: string): string {
  const envs = def.fileSetting ? [...def.env] : def.env
  const text = summary ?? def.description
  const dflt = def.default === undefined ? '' : `; default ${def.default}`
  return `${text} [env: ${envs.join(', ')}; profile: ${def.key}${dflt}]`
}

/**
 * A flag that sets a setting. It has no static default, so an absent flag never masks the
 * environment, .env or the profile (the spiffe/spire#2570 bug); the base command resolves it.
 */
export function settingFlag(key: string, opts: SettingFlagOptions = {}): Interfaces.OptionFlag<string | undefined> {
  const def = settingDef(key)
  if (def.kind === 'boolean') throw new Error(`setting ${key} is a boolean: use settingBooleanFlag`)
  const flag = Flags.string({summary: settingSummary(def, opts.summary), ...(opts.char ? {char: opts.char} : {}), ...(opts.helpGroup ? {helpGroup: opts.helpGroup} : {})})
  SETTING_OF.set(flag, key)
  return flag
}

/** A boolean setting flag (--insecure / --no-insecure), also without a static default. */
export function settingBooleanFlag(key: string, opts: SettingFlagOptions = {}): Interfaces.BooleanFlag<boolean | undefined> {
  const def = settingDef(key)
  if (def.kind !== 'boolean') throw new Error(`setting ${key} is not a boolean: use settingFlag`)
  const flag = Flags.boolean({summary: settingSummary(def, opts.summary), allowNo: true, ...(opts.helpGroup ? {helpGroup: opts.helpGroup} : {})})
  SETTING_OF.set(flag, key)
  return flag as Interfaces.BooleanFlag<boolean | undefined>
}

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export interface JsonErrorBody {
  error: {code: string; message: string; exitCode: number; suggestions: string[]; details?: Record<string, unknown>}
}

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    profile: Flags.string({
      summary: 'profile of the config file to use [env: TRUSTCTL_PROFILE]',
      helpGroup: 'GLOBAL',
    }),
    config: Flags.string({
      summary: 'trustctl config file [env: TRUSTCTL_CONFIG; default ~/.config/trustctl/config.yaml]',
      helpGroup: 'GLOBAL',
    }),
    'no-prompt': Flags.boolean({
      summary: 'never prompt; fail naming the missing flag instead (also when stdin is not a TTY or CI is set)',
      helpGroup: 'GLOBAL',
    }),
    'no-color': Flags.boolean({
      summary: 'no colours in output (also NO_COLOR, or when output is not a terminal)',
      helpGroup: 'GLOBAL',
    }),
  }

  /** Commands that diagnose the configuration run even when it does not load. */
  static tolerateConfigErrors = false
  /** Commands whose result IS a secret the user asked for (tokens create): stdout is not redacted; logs still are. */
  static revealsSecrets = false
  /** Commands whose own --config names another file (a service's YAML); trustctl's file then comes from TRUSTCTL_CONFIG. */
  static ownsConfigFlag = false

  protected configError: Error | undefined
  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  protected settings!: Settings
  protected configCtx!: ConfigContext
  protected logger: Logger = createLogger({level: levelFromEnv(process.env), color: false})

  public override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse(this.ctor)
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.logger = createLogger({level: levelFromEnv(process.env), color: this.colorEnabled(process.stderr)})

    const ownsConfig = (this.ctor as unknown as typeof BaseCommand).ownsConfigFlag
    const loadOpts = {cwd: process.cwd(), env: process.env, configFlag: ownsConfig ? undefined : this.flags.config, profileFlag: this.flags.profile}
    try {
      this.configCtx = await loadConfigContext(loadOpts)
    } catch (err) {
      // doctor reports a broken config file as a failed check instead of stopping on it.
      if (!(this.ctor as unknown as typeof BaseCommand).tolerateConfigErrors) throw err
      this.configError = err as Error
      this.configCtx = emptyConfigContext(loadOpts)
    }
    for (const w of this.configCtx.warnings) this.logger.warn(w)

    const flagNames = new Map<string, string>()
    const values: Record<string, string | boolean | undefined> = {}
    const allFlags = {...(this.ctor as unknown as typeof BaseCommand).baseFlags, ...this.ctor.flags}
    for (const [name, def] of Object.entries(allFlags)) {
      const key = SETTING_OF.get(def as object)
      if (!key) continue
      flagNames.set(key, name)
      values[name] = (flags as Record<string, string | boolean | undefined>)[name]
    }
    this.settings = new Settings(this.configCtx, flagNames, values)
    for (const r of this.settings.all()) {
      if (r.secret && r.source === 'flag' && r.secretFile === undefined) {
        const def = settingDef(r.key)
        const fileFlag = def.fileSetting ? flagNames.get(def.fileSetting) : undefined
        this.logger.warn(
          `${r.origin} puts a secret on the command line, where other users can read it (ps, shell history); use ${fileFlag ? `--${fileFlag}` : 'a file'} or ${def.env[0]} instead`,
        )
      }
    }
  }

  /** True when prompting is allowed: stdin is a TTY, CI is not set and --no-prompt was not given. */
  protected canPrompt(): boolean {
    return Boolean(process.stdin.isTTY) && !process.env.CI && !this.flags?.['no-prompt']
  }

  /** Prompts for a secret on the TTY (masked, on stderr), or fails naming the flag that was needed. */
  protected async promptSecret(label: string, flagName: string): Promise<string> {
    if (!this.canPrompt()) {
      throw new UsageError('MISSING_FLAG', `missing ${flagName}: ${label}`, {
        suggestions: [`pass ${flagName} (no prompt: ${process.env.CI ? 'CI is set' : this.flags?.['no-prompt'] ? '--no-prompt' : 'stdin is not a terminal'})`],
      })
    }
    const {password} = await loadPrompts()
    return password({message: label, mask: '*'}, {output: process.stderr})
  }

  protected colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
    if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false
    if (this.argv.includes('--no-color') || this.flags?.['no-color']) return false
    if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true
    return Boolean(stream.isTTY) && process.env.TERM !== 'dumb'
  }

  /** A status line for people, on stderr (stdout stays for the result); silent under --json. */
  protected note(text: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${redact(text)}\n`)
  }

  /** Writes human output to stdout (only outside JSON mode); the result object goes to --json as is. */
  protected print(text: string): void {
    const line = text.endsWith('\n') ? text : `${text}\n`
    if (!this.jsonEnabled()) process.stdout.write(this.reveals() ? line : redact(line))
  }

  /** The --json result, with any registered secret masked wherever it appears. */
  protected override toSuccessJson(result: unknown): unknown {
    return this.reveals() ? result : redactJson(result)
  }

  /** oclif tokenizes the JSON to colour it even when nothing is coloured; a pipe gets it plain (same text, ~10x faster on large results). */
  public override logJson(json: unknown): void {
    if (process.stdout.isTTY) super.logJson(json)
    else process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  private reveals(): boolean {
    return (this.ctor as unknown as typeof BaseCommand).revealsSecrets
  }

  public override async catch(err: Error & {oclif?: {exit?: number}; exitCode?: number}): Promise<void> {
    const body = errorBody(err)
    process.exitCode = body.error.exitCode
    if (this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify(body, null, 2)}\n`)
    } else {
      const paint = (code: string, s: string) => (this.colorEnabled(process.stderr) ? `\u001B[${code}m${s}\u001B[39m` : s)
      let out = `${paint('31', 'Error:')} ${body.error.message}\n`
      for (const s of body.error.suggestions) out += `  ${paint('33', 'hint:')} ${s}\n`
      process.stderr.write(out)
    }
    if (process.env.DEBUG && err.stack) process.stderr.write(`${redact(err.stack)}\n`)
  }
}

/** The JSON error envelope (also the source of the human error text), secrets redacted. */
export function errorBody(err: Error & {oclif?: {exit?: number}; exitCode?: number}): JsonErrorBody {
  if (isTrustctlError(err)) {
    return {
      error: {
        code: err.code,
        message: redact(err.message),
        exitCode: err.exitCode,
        suggestions: err.suggestions.map(redact),
        ...(err.details ? {details: redactJson(err.details)} : {}),
      },
    }
  }
  // oclif's own errors: flag parsing and validation (exit 2), this.exit().
  if (err.oclif?.exit !== undefined) {
    const lines = redact(err.message)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && l !== 'The following error occurred:' && l !== 'The following errors occurred:' && !l.startsWith('See more help with'))
    const exit = err.oclif.exit
    return {
      error: {
        code: exit === ExitCode.USAGE ? 'USAGE' : 'EXIT',
        message: lines.join('; ') || `exit ${exit}`,
        exitCode: exit,
        suggestions: exit === ExitCode.USAGE ? ['see --help for the flags and examples'] : [],
      },
    }
  }
  return {
    error: {
      code: 'INTERNAL',
      message: `internal error: ${redact(err.message ?? String(err)).split('\n')[0]}`,
      exitCode: ExitCode.INTERNAL,
      suggestions: ['run again with DEBUG=1 to see the stack trace, and report it'],
    },
  }
}
