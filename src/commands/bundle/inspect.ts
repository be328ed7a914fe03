import {Flags} from '@oclif/core'

import {BaseCommand, settingBooleanFlag, settingFlag} from '../../base-command.js'
import {inspectToken, type InspectResult} from '../../lib/bundle/inspect.js'
import {readTokenSource} from '../../lib/bundle/source.js'

export default class BundleInspect extends BaseCommand<typeof BundleInspect> {
  static override summary = 'Decode every layer of a token WITHOUT verifying it'
  static override description = `Shows each layer's header and claims (innermost first), its times relative to now, and the bundle's
certificates. Nothing is verified: use "trustctl bundle verify" before trusting anything shown here.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --token spiffetrustbundle.token',
    'curl -s http://bundles.example.org/spiffetrustbundle.token | <%= config.bin %> <%= command.id %> --token - --json',
  ]

  static override flags = {
    token: Flags.string({summary: 'token source: a path, file://, http(s):// URL, or - for stdin'}),
    'max-size': Flags.integer({summary: 'largest token read, in bytes (default 1048576)', min: 1}),
    'ca-file': settingFlag('ca-file'),
    insecure: settingBooleanFlag('insecure'),
    timeout: settingFlag('timeout'),
  }

  async run(): Promise<InspectResult> {
    const source = this.flags.token ?? (process.stdin.isTTY ? undefined : '-')
    if (source === undefined) {
      const {UsageError} = await import('../../lib/core/errors.js')
      throw new UsageError('MISSING_FLAG', 'missing --token', {suggestions: ['pass --token FILE|URL|-, or pipe the token in']})
    }
    const text = await readTokenSource(source, {
      maxBytes: this.flags['max-size'],
      http: {caFile: this.settings.string('ca-file'), insecure: this.settings.boolean('insecure'), timeoutMs: this.settings.duration('timeout'), logger: this.logger},
    })
    const result = inspectToken(text)
    this.logger.warn(result.warning)
    const lines: string[] = ['*** NOT VERIFIED: decoded only ***']
    for (const l of result.layers) {
      const n = result.layers.length
      const role = n === 1 ? ' (the only layer)' : l.layer === n ? ' (outermost)' : l.layer === 1 ? ' (innermost)' : ''
      lines.push('', `layer ${l.layer} of ${n}${role}`)
      if (l.error) lines.push(`  error: ${l.error}`)
      if (l.header) lines.push(`  header: ${JSON.stringify(l.header)}`)
      for (const [k, v] of Object.entries(l.claims ?? {})) lines.push(`  ${k}: ${l.times?.[k] ?? (typeof v === 'string' ? v : JSON.stringify(v))}`)
    }
    if (result.certificates) {
      lines.push('', 'bundle certificates:')
      for (const c of result.certificates) lines.push(`  ${c.subject}${c.spiffeIds.length ? ` ${c.spiffeIds.join(' ')}` : ''}  ${c.notBefore} .. ${c.notAfter}  SHA256:${c.fingerprintSha256}`)
    }
    if (result.bundleError) lines.push('', `bundle: ${result.bundleError}`)
    this.print(lines.join('\n'))
    return result
  }
}
