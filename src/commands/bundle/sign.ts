import {Flags} from '@oclif/core'

import {BaseCommand, settingFlag} from '../../base-command.js'
import {writeFileAtomic} from '../../lib/core/atomic-file.js'
import {UsageError} from '../../lib/core/errors.js'
import {parseDuration} from '../../lib/core/values.js'
import {decodeJws} from '../../lib/bundle/jws.js'
import {loadPemSigner, type Signer} from '../../lib/bundle/keys.js'
import {readTokenSource} from '../../lib/bundle/source.js'
import {createInnermostToken, createNestedToken, defaultIssuer} from '../../lib/bundle/token.js'
import {handleSetting, tpmOptions} from '../../lib/tpm/options.js'
import {TpmSigner} from '../../lib/tpm/signer.js'

interface SignResult {
  token: string
  layer: 'innermost' | 'nested'
  alg: string
  issuer: string
  iat: number
  exp: number
  signer: string
  out?: string
}

export default class BundleSign extends BaseCommand<typeof BundleSign> {
  static override summary = 'Sign a trust bundle into a token, or wrap a token in another signed layer'
  static override description = `Makes the tokens of spire-server-attestor-tpm: with --bundle, an innermost layer whose "spiffetb"
claim is the PEM trust bundle; with --wrap, a nested layer whose "jwt" claim is the given token (what a
remote signer-http adds). Claims iss, iat, nbf and exp (now + --ttl) are set on every layer.

The signer is the TPM key (--tpm-handle, RS256), a PEM private-key file (--key: RSA signs RS256,
EC P-256 signs ES256), or a CipherTrust Manager key (--ctm-key; its ECDSA DER signatures are converted
to the JWS r||s form). --issuer defaults to this host's name, as in the reference. A bundle without
a certificate is refused (exit 2).`

  static override examples = [
    'spire-server bundle show -format pem | <%= config.bin %> <%= command.id %> --bundle - --out spiffetrustbundle.token',
    '<%= config.bin %> <%= command.id %> --bundle bundle.pem --key dev-key.pem --ttl 1h --out token.jwt',
    '<%= config.bin %> <%= command.id %> --wrap token.jwt --tpm-handle 0x81008006 --issuer server-b --out token2.jwt',
  ]

  static override flags = {
    bundle: Flags.string({summary: 'PEM trust bundle to sign (a file, or - for stdin)', exactlyOne: ['bundle', 'wrap']}),
    wrap: Flags.string({summary: 'token to wrap in a nested layer (a file, or - for stdin)', exactlyOne: ['bundle', 'wrap']}),
    key: Flags.string({summary: 'sign with this PEM private-key file instead of the TPM (RSA: RS256, EC P-256: ES256)'}),
    'ctm-key': Flags.string({summary: 'sign with this CipherTrust Manager key (EC P-256: ES256, RSA: RS256); connection from TRUSTCTL_CTM_*, the profile or ~/.ksctl/config.yaml'}),
    'tpm-handle': settingFlag('tpm-handle'),
    issuer: Flags.string({summary: 'iss claim (default: this host name)'}),
    ttl: Flags.string({summary: 'token lifetime, e.g. 10m, 1h (default 10m)'}),
    out: Flags.string({summary: 'write the token to this file (atomically, mode 0644) instead of stdout'}),
    force: Flags.boolean({summary: 'replace an existing --out file'}),
    tcti: settingFlag('tcti'),
    'tpm-timeout': settingFlag('tpm-timeout'),
  }

  async run(): Promise<SignResult> {
    const {flags} = this
    if ([flags.key, flags['tpm-handle'], flags['ctm-key']].filter(Boolean).length > 1) {
      throw new UsageError('INVALID_VALUE', '--key, --ctm-key and --tpm-handle each name a signer', {suggestions: ['give one of them']})
    }
    const ttlMs = parseDuration(flags.ttl ?? '10m', '--ttl')
    if (ttlMs <= 0) throw new UsageError('INVALID_VALUE', '--ttl must be positive')
    const signer: Signer = flags.key ? await loadPemSigner(flags.key) : flags['ctm-key'] ? await this.ctmSigner(flags['ctm-key']) : this.tpmSigner()
    const issuer = flags.issuer ?? defaultIssuer()
    const now = Date.now()
    let token: string
    if (flags.bundle !== undefined) {
      const pem = await readInput(flags.bundle, 'bundle')
      token = await createInnermostToken(pem, {signer, issuer, ttlMs, now})
    } else {
      const inner = await readTokenSource(flags.wrap as string)
      token = await createNestedToken(inner, {signer, issuer, ttlMs, now})
    }
    if (flags.out) {
      const status = await writeFileAtomic(flags.out, `${token}\n`, {mode: 0o644, dirMode: 0o755, force: flags.force})
      this.note(`${status} ${flags.out}`)
    } else {
      this.print(token)
    }
    const {payload} = decodeJws(token, 'the new token')
    return {
      token,
      layer: flags.bundle !== undefined ? 'innermost' : 'nested',
      alg: signer.algorithm,
      issuer,
      iat: payload.iat as number,
      exp: payload.exp as number,
      signer: signer.description,
      ...(flags.out ? {out: flags.out} : {}),
    }
  }

  private async ctmSigner(keyName: string): Promise<Signer> {
    const {ctmConnection} = await import('../../lib/ciphertrust/connection.js')
    const {CtmClient} = await import('../../lib/ciphertrust/client.js')
    const {ctmSigner} = await import('../../lib/ciphertrust/signer.js')
    const client = await CtmClient.connect(await ctmConnection(this.settings, this.logger, () => this.promptSecret('CipherTrust Manager password', 'TRUSTCTL_CTM_PASSWORD_FILE')))
    await client.login()
    return ctmSigner(client, keyName)
  }

  private tpmSigner(): Signer {
    const handle = handleSetting(this.settings, 'tpm-handle')
    const tpm = new TpmSigner({...tpmOptions(this.settings, this.logger), handle})
    return {algorithm: 'RS256', description: `TPM key 0x${handle.toString(16)} (${tpm.transport})`, sign: (data) => tpm.sign(data)}
  }
}

async function readInput(src: string, what: string): Promise<string> {
  const {readFile} = await import('node:fs/promises')
  const {fileErrorFrom} = await import('../../lib/core/errors.js')
  try {
    if (src !== '-') return await readFile(src, 'utf8')
    const chunks: Buffer[] = []
    for await (const c of process.stdin) chunks.push(c as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  } catch (err) {
    throw fileErrorFrom(err, src, `read the ${what}`)
  }
}
