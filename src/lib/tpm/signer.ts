import {createHash} from 'node:crypto'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Logger} from '../core/log.js'
import {TpmClient} from './client.js'
import {TpmError} from './errors.js'
import {DEFAULT_SIGNING_HANDLE, formatHandle} from './handles.js'
import {withTpmLock} from './lock.js'
import {lockPathFor, parseTcti, type Tcti} from './tcti.js'
import {runTool} from './tools.js'
import {supportsWire} from './wire.js'
import {WireSession} from './wire-session.js'

export interface TpmSignerOptions {
  tcti: string
  handle?: number
  timeoutMs: number
  logger?: Logger
  /** 'auto': TPM2_Sign straight over swtpm's socket or /dev/tpmrm0 where possible, else tpm2_sign. */
  transport?: 'auto' | 'tools'
}

/**
 * Signs with the persistent TPM key: RSASSA-PKCS1-v1_5 with SHA-256, i.e. the JWS RS256 value.
 * Holds the TPM lock for each signature only, so other trustctl processes interleave.
 */
export class TpmSigner {
  readonly algorithm = 'RS256' as const
  readonly handle: number
  private readonly tcti: Tcti
  private readonly lockPath: string
  private readonly useWire: boolean
  private pem: string | undefined

  constructor(private readonly opts: TpmSignerOptions) {
    this.handle = opts.handle ?? DEFAULT_SIGNING_HANDLE
    this.tcti = parseTcti(opts.tcti)
    this.lockPath = lockPathFor(this.tcti)
    this.useWire = (opts.transport ?? 'auto') === 'auto' && supportsWire(this.tcti)
  }

  get transport(): 'wire' | 'tools' {
    return this.useWire ? 'wire' : 'tools'
  }

  async sign(data: Uint8Array): Promise<Buffer> {
    return this.signDigest(createHash('sha256').update(data).digest())
  }

  /** Signs a SHA-256 digest (32 bytes) given by the caller. */
  async signDigest(digest: Uint8Array): Promise<Buffer> {
    if (digest.length !== 32) {
      throw new TpmError('INVALID_DIGEST', `a SHA-256 digest is 32 bytes, got ${digest.length}`, {suggestions: ['give the raw 32-byte digest (not hex), or sign the data itself without --digest']})
    }
    const handle = formatHandle(this.handle)
    return withTpmLock(this.lockPath, this.opts.timeoutMs, async () => {
      if (this.useWire) {
        // One connection per signature: swtpm serves one client at a time, so it is not held.
        const session = await WireSession.open(this.tcti, this.opts.timeoutMs)
        try {
          return await session.sign(this.handle, digest)
        } finally {
          await session.close()
        }
      }
      const dir = await mkdtemp(join(tmpdir(), 'trustctl-sign-'))
      try {
        const out = join(dir, 'sig.bin')
        // tpm2_sign writes only to a file (-o /dev/stdout fails when stdout is a pipe to Node).
        await runTool(
          {tcti: this.tcti.text, timeoutMs: this.opts.timeoutMs, logger: this.opts.logger, cwd: dir},
          {tool: 'tpm2_sign', args: ['-c', handle, '-g', 'sha256', '-s', 'rsassa', '-d', '-f', 'plain', '-o', out], input: digest, handle},
        )
        return await readFile(out)
      } finally {
        await rm(dir, {recursive: true, force: true})
      }
    })
  }

  /** The signing key's public key, SubjectPublicKeyInfo PEM (read once, then cached). */
  async publicKeyPem(): Promise<string> {
    this.pem ??= await new TpmClient({tcti: this.tcti.text, timeoutMs: this.opts.timeoutMs, logger: this.opts.logger, transport: this.opts.transport}).pubkeyPem(this.handle)
    return this.pem
  }
}

