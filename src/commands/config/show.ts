import {BaseCommand, settingBooleanFlag, settingFlag} from '../../base-command.js'
import type {Settings} from '../../lib/core/config.js'
import {REDACTED} from '../../lib/core/log.js'
import {SETTINGS} from '../../lib/core/settings.js'

interface ShownSetting {
  key: string
  value: string | null
  source: string
  origin: string | null
  secret: boolean
}

interface ConfigShowResult {
  configFile: {path: string; source: string; exists: boolean}
  profile: {name: string; source: string}
  dotenv: string | null
  settings: ShownSetting[]
}

/** Parses every typed value, so a bad one fails here with its origin rather than later in some command. */
function validateAll(settings: Settings): void {
  for (const def of SETTINGS) {
    if (def.kind === 'duration') settings.duration(def.key)
    else if (def.kind === 'boolean') settings.boolean(def.key)
    else if (def.kind === 'integer') settings.integer(def.key)
    else if (def.kind === 'url') settings.url(def.key)
  }
}

// Every setting is a flag here, so "config show --tcti X" shows what a command given --tcti X would use.
const flags = Object.fromEntries(SETTINGS.map((s) => [s.key, s.kind === 'boolean' ? settingBooleanFlag(s.key) : settingFlag(s.key)]))

export default class ConfigShow extends BaseCommand<typeof ConfigShow> {
  static override summary = 'Show every resolved setting, its value and where it came from'
  static override description = `Precedence, highest first: flag > environment (TRUSTCTL_*, and the system's own variables such as
TPM2TOOLS_TCTI) > .env in the working directory (never overrides a real variable) > the profile in
the config file (--profile / TRUSTCTL_PROFILE / current-profile; file --config / TRUSTCTL_CONFIG /
~/.config/trustctl/config.yaml) > built-in default. Secrets are shown as ***.

Any setting can be passed as a flag here to see what a command given that flag would use.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --profile lab --json',
    {description: 'Where does the TCTI come from?', command: '<%= config.bin %> <%= command.id %> --json | jq \'.settings[] | select(.key=="tcti")\''},
  ]

  static override flags = flags

  async run(): Promise<ConfigShowResult> {
    const ctx = this.configCtx
    validateAll(this.settings)
    const settings: ShownSetting[] = this.settings.all().map((r) => ({
      key: r.key,
      value: r.secret ? (r.value !== undefined || r.secretFile ? REDACTED : null) : (r.value ?? null),
      source: r.source,
      origin: r.secretFile ? `${r.origin} (file ${r.secretFile})` : (r.origin ?? null),
      secret: r.secret,
    }))
    const result: ConfigShowResult = {
      configFile: {path: ctx.file.path, source: ctx.file.source, exists: ctx.file.exists},
      profile: {name: ctx.profileName, source: ctx.profileSource},
      dotenv: ctx.dotenvPath ?? null,
      settings,
    }
    const w = Math.max(...settings.map((s) => s.key.length))
    const vw = Math.min(48, Math.max(5, ...settings.map((s) => (s.value ?? '-').length)))
    const lines = [
      `config file: ${ctx.file.path} (${ctx.file.exists ? 'found' : 'not found'}; from ${ctx.file.source})`,
      `profile:     ${ctx.profileName} (from ${ctx.profileSource})`,
      `.env:        ${ctx.dotenvPath ?? 'none'}`,
      '',
      `${'SETTING'.padEnd(w)}  ${'VALUE'.padEnd(vw)}  SOURCE`,
      ...settings.map((s) => `${s.key.padEnd(w)}  ${(s.value ?? '-').padEnd(vw)}  ${s.source}${s.origin ? ` (${s.origin})` : ''}`),
    ]
    this.print(lines.join('\n'))
    return result
  }
}
