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
import {buildSignCommand, parseSignResponse, supportsWire, transact} from './wire.js'

const RETRY_RCS = new Set([0x922, 0x908, 0x90a])

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
        const command = buildSignCommand(this.handle, digest)
        const deadline = Date.now() + this.opts.timeoutMs
        for (let delay = 2; ; delay = Math.min(100, delay * 2)) {
          const res = await transact(this.tcti, command, Math.max(1, deadline - Date.now()))
          // TPM_RC_RETRY / YIELDED / TESTING: the TPM asks for the command again (e.g. busy after key generation).
          if (res.length >= 10 && RETRY_RCS.has(res.readUInt32BE(6)) && Date.now() + delay < deadline) {
            await new Promise((r) => setTimeout(r, delay))
            continue
          }
          return parseSignResponse(res, {tcti: this.tcti.text, handle})
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
    this.pem ??= await new TpmClient({tcti: this.tcti.text, timeoutMs: this.opts.timeoutMs, logger: this.opts.logger}).pubkeyPem(this.handle)
    return this.pem
  }
}

