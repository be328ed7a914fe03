import {Flags} from '@oclif/core'

import {BaseCommand, settingBooleanFlag, settingFlag} from '../../base-command.js'
import {writeFileAtomic} from '../../lib/core/atomic-file.js'
import {UsageError} from '../../lib/core/errors.js'
import {keysetNamed, loadVerifierConfig} from '../../lib/bundle/keyset-config.js'
import {loadPublicKey} from '../../lib/bundle/keys.js'
import {readTokenSource} from '../../lib/bundle/source.js'
import {verifyToken, type Keyset, type VerifyResult} from '../../lib/bundle/verify.js'

export default class BundleVerify extends BaseCommand<typeof BundleVerify> {
  static override summary = 'Verify a trust-bundle token against a keyset and print the bundle'
  static override description = `The reference verifier's algorithm: the chain lists the signers innermost first; the outermost
layer is verified with the last key, and so on down to the innermost layer, whose "spiffetb" claim is
the bundle. The backup key may stand in for any one layer (the innermost too). Times have a 5 s
leeway. Stricter than the reference: the algorithm must fit the key (no none, HS*, RS/ES mix-ups), the
depth must equal the chain length, each layer needs iss, iat and exp, --issuer pins issuers (innermost
first, - for any), tokens over --max-size are rejected before parsing, and the bundle must hold an
X.509 certificate.

Keys come from a verifier config (--config FILE --keyset NAME; the reference's YAML) or from --chain
(repeated, innermost first) and --backup. Every verification failure exits 6 naming the layer and key.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --config /etc/spire/server-attestor-tpm/verifier.conf --keyset main',
    '<%= config.bin %> <%= command.id %> --chain keys/a.pem --chain keys/b.pem --backup keys/backup.pem --token https://bundles.example.org/spiffetrustbundle.token --json',
    '<%= config.bin %> <%= command.id %> --chain main.pem --token spiffetrustbundle.token --out bundle.pem --force',
  ]

  static override flags = {
    config: Flags.string({summary: "verifier config file (the reference's YAML: keydir, keyset)", dependsOn: ['keyset']}),
    keyset: Flags.string({summary: 'keyset of the verifier config to use', dependsOn: ['config']}),
    chain: Flags.string({summary: 'public key of a signer, innermost first (repeatable)', multiple: true, exclusive: ['config']}),
    backup: Flags.string({summary: 'backup public key that may stand in for any one layer', exclusive: ['config']}),
    keydir: Flags.string({summary: 'directory that --chain and --backup names are relative to'}),
    token: Flags.string({summary: 'token source: a path, file://, http(s):// URL, or - for stdin (default: the keyset url, else stdin)'}),
    issuer: Flags.string({summary: 'required issuer per layer, innermost first; - for any (repeatable)', multiple: true}),
    'max-size': Flags.integer({summary: 'largest token accepted, in bytes (default 1048576)', min: 1}),
    out: Flags.string({summary: 'write the verified PEM bundle to this file (atomically, mode 0644)'}),
    force: Flags.boolean({summary: 'replace an existing --out file'}),
    'ca-file': settingFlag('ca-file'),
    insecure: settingBooleanFlag('insecure'),
    timeout: settingFlag('timeout'),
  }

  static override ownsConfigFlag = true

  async run(): Promise<VerifyResult & {keyset: string | null; token: string}> {
    const {flags} = this
    let keyset: Keyset & {name?: string}
    let source = flags.token
    let issuers = flags.issuer
    if (flags.config) {
      const config = await loadVerifierConfig(flags.config)
      const ks = keysetNamed(config, flags.keyset as string)
      keyset = ks
      source ??= ks.url
      issuers ??= ks.issuers
    } else {
      if (!flags.chain || flags.chain.length === 0) {
        throw new UsageError('MISSING_FLAG', 'no keys to verify with', {suggestions: ['pass --config FILE --keyset NAME, or --chain KEY (repeated, innermost first)']})
      }
      const {join, isAbsolute} = await import('node:path')
      const at = (f: string) => (flags.keydir && !isAbsolute(f) ? join(flags.keydir, f) : f)
      keyset = {chain: await Promise.all(flags.chain.map((f) => loadPublicKey(at(f)))), ...(flags.backup ? {backup: await loadPublicKey(at(flags.backup))} : {})}
    }
    if (source === undefined) {
      if (process.stdin.isTTY) throw new UsageError('MISSING_FLAG', 'missing --token: where is the token?', {suggestions: ['pass --token FILE|URL|-, or pipe it in']})
      source = '-'
    }
    const maxBytes = flags['max-size']
    const text = await readTokenSource(source, {
      maxBytes,
      http: {caFile: this.settings.string('ca-file'), insecure: this.settings.boolean('insecure'), timeoutMs: this.settings.duration('timeout'), logger: this.logger},
    })
    const result = verifyToken(text, keyset, {maxBytes, issuers})
    if (result.backupUsed) this.logger.warn(`backup key ${keyset.backup?.name} used for layer ${result.backupLayer} of ${keyset.chain.length}`)
    if (flags.out) {
      const status = await writeFileAtomic(flags.out, result.bundle, {mode: 0o644, dirMode: 0o755, force: flags.force})
      this.note(`${status} ${flags.out}`)
    } else {
      this.print(result.bundle)
    }
    return {keyset: keyset.name ?? null, token: source, ...result}
  }
}
