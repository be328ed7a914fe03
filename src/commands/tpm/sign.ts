import {Flags} from '@oclif/core'

import {BaseCommand, settingFlag} from '../../base-command.js'
import {UsageError} from '../../lib/core/errors.js'
import {handleSetting, tpmOptions} from '../../lib/tpm/options.js'
import {readDigestInput, sha256OfInput} from '../../lib/tpm/sign-input.js'
import {TpmSigner} from '../../lib/tpm/signer.js'

interface SignResult {
  handle: string
  algorithm: 'RS256'
  format: string
  signature: string
  digestSha256: string
  transport: 'wire' | 'tools'
}

export default class TpmSign extends BaseCommand<typeof TpmSign> {
  static override summary = 'Sign data (or a SHA-256 digest) with the TPM signing key: RSASSA-PKCS1-v1_5 / SHA-256'
  static override description = `Signs the SHA-256 of the input, read from --in FILE or stdin (-). With --digest the input is the
digest itself: 32 raw bytes, or 64 hex characters. The signature is the JWS RS256 value and is
printed as base64 (default), base64url, or raw bytes (not to a terminal).

Against swtpm and /dev/tpmrm0 the TPM2_Sign command is sent directly (several hundred signatures per
second); other TCTIs go through tpm2_sign. One TPM command runs at a time, across processes too.`

  static override examples = [
    'echo -n hello | <%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --in message.txt --format base64url',
    "openssl dgst -sha256 -binary message.txt | <%= config.bin %> <%= command.id %> --digest --format raw > sig.bin",
    '<%= config.bin %> <%= command.id %> --in message.txt --json | jq -r .signature',
  ]

  static override flags = {
    handle: settingFlag('tpm-handle'),
    in: Flags.string({summary: 'file to sign, or - for stdin (the default when stdin is not a terminal)'}),
    digest: Flags.boolean({summary: 'the input is a SHA-256 digest (32 bytes or 64 hex characters), not the data'}),
    format: Flags.option({summary: 'signature encoding', options: ['base64', 'base64url', 'raw'] as const})(),
    tcti: settingFlag('tcti'),
    'tpm-timeout': settingFlag('tpm-timeout'),
  }

  async run(): Promise<SignResult> {
    const format = this.flags.format ?? 'base64'
    const source = this.flags.in ?? (process.stdin.isTTY ? undefined : '-')
    if (source === undefined) {
      throw new UsageError('MISSING_FLAG', 'missing --in: nothing to sign (stdin is a terminal)', {suggestions: ['pass --in FILE, or pipe the data in: ... | trustctl tpm sign']})
    }
    if (format === 'raw' && !this.jsonEnabled() && process.stdout.isTTY) {
      throw new UsageError('INVALID_VALUE', '--format raw would write binary to the terminal', {suggestions: ['redirect stdout to a file, or use --format base64']})
    }
    const handle = handleSetting(this.settings, 'tpm-handle')
    const digest = this.flags.digest ? await readDigestInput(source) : await sha256OfInput(source)
    const signer = new TpmSigner({...tpmOptions(this.settings, this.logger), handle})
    const sig = await signer.signDigest(digest)
    const encoded = format === 'raw' ? sig.toString('base64') : sig.toString(format)
    if (!this.jsonEnabled()) {
      if (format === 'raw') process.stdout.write(sig)
      else this.print(encoded)
    }
    return {
      handle: `0x${handle.toString(16)}`,
      algorithm: 'RS256',
      format: format === 'raw' ? 'base64' : format,
      signature: encoded,
      digestSha256: Buffer.from(digest).toString('hex'),
      transport: signer.transport,
    }
  }
}
