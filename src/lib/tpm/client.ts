import {createHash, createPublicKey} from 'node:crypto'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {isTrustctlError} from '../core/errors.js'
import type {Logger} from '../core/log.js'
import {TpmError} from './errors.js'
import {DEFAULT_SIGNING_HANDLE, DEFAULT_SRK_HANDLE, formatHandle} from './handles.js'
import {withTpmLock} from './lock.js'
import {describeKey, isSigningKeyOfOurKind, isStorageKey, parseFixedProperties, parsePersistentHandles, parseReadPublic, type PublicInfo, type TpmIdentity} from './parse.js'
import {lockPathFor, parseTcti, type Tcti} from './tcti.js'
import {renderCall, runTool, type ToolCall, type ToolContext} from './tools.js'
import {supportsWire} from './wire.js'
import {WireSession} from './wire-session.js'

export interface TpmOptions {
  tcti: string
  timeoutMs: number
  logger?: Logger
  /** auto: simple commands go straight to swtpm / /dev/tpmrm0 (no process per step); tools: tpm2-tools only. */
  transport?: 'auto' | 'tools'
}

/** The TCG "TPM v2.0 Provisioning Guidance" RSA-2048 storage key (SRK) template (specs/tpm.md §3). */
const SRK_ATTRIBUTES = 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|decrypt'
/** TCG unique field: 256 zero bytes, fed on stdin (a file would be copied raw into the struct). */
const SRK_UNIQUE = new Uint8Array(256)

export interface KeyReport {
  handle: string
  present: boolean
  description?: string
  public?: PublicInfo
  /** For the signing key: RSA-2048 RSASSA/SHA-256 signing key. For the SRK: a storage key. */
  expectedKind?: boolean
  fingerprintSha256?: string
}

export interface StatusReport {
  tcti: string
  reachable: true
  tpm: TpmIdentity
  persistentHandles: string[]
  srk: KeyReport
  key: KeyReport
}

export interface ProvisionOptions {
  handle?: number
  srkHandle?: number
  ownerAuth?: string
  force?: boolean
  dryRun?: boolean
}

export type StepStatus = 'created' | 'unchanged' | 'replaced'

export interface ProvisionReport {
  tcti: string
  transport: 'wire' | 'tools'
  dryRun: boolean
  srk: {handle: string; status: StepStatus}
  key: {handle: string; status: StepStatus; fingerprintSha256?: string}
  /** The tpm2-tools commands that changed (or, with --dry-run, would change) the TPM. */
  commands: string[]
}

/**
 * trustctl's TPM access through tpm2-tools. Every public operation holds the TPM lock for its
 * whole sequence of tool calls and works in a private temporary directory that is removed after.
 */
export class TpmClient {
  readonly tcti: string
  readonly transport: 'wire' | 'tools'
  private readonly parsed: Tcti
  private readonly lockPath: string

  constructor(private readonly opts: TpmOptions) {
    this.tcti = opts.tcti
    this.parsed = parseTcti(opts.tcti)
    this.lockPath = lockPathFor(this.parsed)
    this.transport = (opts.transport ?? 'auto') === 'auto' && supportsWire(this.parsed) ? 'wire' : 'tools'
  }

  /** Runs fn over one direct connection to the TPM (closed before any tpm2-tools process needs the TPM). */
  private async wire<T>(fn: (w: WireSession) => Promise<T>): Promise<T> {
    const w = await WireSession.open(this.parsed, this.opts.timeoutMs)
    try {
      return await fn(w)
    } finally {
      await w.close()
    }
  }

  private async persistentIn(ctx: ToolContext): Promise<number[]> {
    if (this.transport === 'wire') return this.wire((w) => w.handles(0x81000000))
    return parsePersistentHandles(await runTool(ctx, {tool: 'tpm2_getcap', args: ['handles-persistent']}))
  }

  /** Runs fn with the TPM to ourselves and a private work directory. */
  async exclusive<T>(fn: (ctx: ToolContext & {workDir: string}) => Promise<T>, ownerAuthFlag = '--owner-auth-file'): Promise<T> {
    return withTpmLock(this.lockPath, this.opts.timeoutMs, async () => {
      const workDir = await mkdtemp(join(tmpdir(), 'trustctl-tpm-'))
      try {
        return await fn({tcti: this.tcti, timeoutMs: this.opts.timeoutMs, logger: this.opts.logger, cwd: workDir, ownerAuthFlag, workDir})
      } finally {
        await rm(workDir, {recursive: true, force: true})
      }
    })
  }

  async status(handle = DEFAULT_SIGNING_HANDLE, srkHandle = DEFAULT_SRK_HANDLE): Promise<StatusReport> {
    return this.exclusive(async (ctx) => {
      const tpm = await parseFixedProperties(await runTool(ctx, {tool: 'tpm2_getcap', args: ['properties-fixed']}))
      const handles = await parsePersistentHandles(await runTool(ctx, {tool: 'tpm2_getcap', args: ['handles-persistent']}))
      const describe = async (h: number, isKey: boolean): Promise<KeyReport> => {
        if (!handles.includes(h)) return {handle: formatHandle(h), present: false}
        const pub = await this.readPublicIn(ctx, h)
        const report: KeyReport = {
          handle: formatHandle(h),
          present: true,
          description: describeKey(pub),
          public: pub,
          expectedKind: isKey ? isSigningKeyOfOurKind(pub) : isStorageKey(pub),
        }
        if (isKey) report.fingerprintSha256 = fingerprint(await this.pubkeyPemIn(ctx, h))
        return report
      }
      return {
        tcti: this.tcti,
        reachable: true,
        tpm,
        persistentHandles: handles.map(formatHandle),
        srk: await describe(srkHandle, false),
        key: await describe(handle, true),
      }
    })
  }

  async persistentHandles(): Promise<number[]> {
    return this.exclusive(async (ctx) => parsePersistentHandles(await runTool(ctx, {tool: 'tpm2_getcap', args: ['handles-persistent']})))
  }

  /** The public key at a persistent handle as SubjectPublicKeyInfo PEM. */
  async pubkeyPem(handle = DEFAULT_SIGNING_HANDLE): Promise<string> {
    return this.exclusive((ctx) => this.pubkeyPemIn(ctx, handle))
  }

  async provision(opts: ProvisionOptions = {}): Promise<ProvisionReport> {
    const handle = opts.handle ?? DEFAULT_SIGNING_HANDLE
    const srkHandle = opts.srkHandle ?? DEFAULT_SRK_HANDLE
    if (handle === srkHandle) {
      throw new TpmError('REFUSED', `the signing key handle and the storage key handle are both ${formatHandle(handle)}`, {suggestions: ['use different handles']})
    }
    return this.exclusive(async (ctx) => {
      const commands: string[] = []
      const authArgs: string[] = []
      if (opts.ownerAuth !== undefined) {
        const authFile = join(ctx.workDir, 'owner.auth')
        await writeFile(authFile, opts.ownerAuth, {mode: 0o600})
        authArgs.push('-P', `file:${authFile}`)
      }
      const change = async (call: ToolCall) => {
        commands.push(renderCall({...call, args: call.args.map((a) => (a.startsWith('file:') ? 'file:<owner-auth-file>' : a))}, this.tcti))
        if (!opts.dryRun) await runTool(ctx, call)
      }
      const flush = async () => {
        // Tools that load a context leak a transient slot (swtpm has 3), also when they fail.
        if (!opts.dryRun) await runTool(ctx, {tool: 'tpm2_flushcontext', args: ['-t']}).catch(() => undefined)
      }
      const handles = await this.persistentIn(ctx)
      const H = formatHandle(handle)
      const SRK = formatHandle(srkHandle)
      const wire = this.transport === 'wire' && !opts.dryRun
      // The equivalent tpm2-tools command is always recorded (for --dry-run and the report).
      const record = (call: ToolCall) => commands.push(renderCall({...call, args: call.args.map((a) => (a.startsWith('file:') ? 'file:<owner-auth-file>' : a))}, this.tcti))

      // 1. The storage key: created when missing, never replaced.
      let srkStatus: StepStatus = 'unchanged'
      if (handles.includes(srkHandle)) {
        const pub = await this.readPublicIn(ctx, srkHandle)
        if (!isStorageKey(pub)) {
          throw new TpmError('WRONG_KEY_KIND', `${SRK} holds ${describeKey(pub)}, not a storage key`, {
            suggestions: ['trustctl never replaces the storage key: give another --srk-handle, or evict that object yourself if it is not used'],
            details: {handle: SRK},
          })
        }
      } else {
        srkStatus = 'created'
        if (wire) {
          record({tool: 'tpm2_createprimary', args: ['-Q', '-C', 'o', ...authArgs, '-g', 'sha256', '-G', 'rsa2048:null:aes128cfb', '-a', SRK_ATTRIBUTES, '-u', '-', '-c', 'srk.ctx'], input: SRK_UNIQUE})
          record({tool: 'tpm2_evictcontrol', args: ['-Q', '-C', 'o', ...authArgs, '-c', 'srk.ctx', SRK]})
          await this.wire(async (w) => {
            const t = await w.createPrimaryStorageKey(opts.ownerAuth)
            try {
              await w.evictControl(t, srkHandle, opts.ownerAuth)
            } finally {
              await w.flushContext(t).catch(() => undefined)
            }
          })
        } else try {
          await change({
            tool: 'tpm2_createprimary',
            args: ['-Q', '-C', 'o', ...authArgs, '-g', 'sha256', '-G', 'rsa2048:null:aes128cfb', '-a', SRK_ATTRIBUTES, '-u', '-', '-c', 'srk.ctx'],
            input: SRK_UNIQUE,
          })
          await change({tool: 'tpm2_evictcontrol', args: ['-Q', '-C', 'o', ...authArgs, '-c', 'srk.ctx', SRK], handle: SRK})
        } finally {
          await flush()
        }
      }

      // 2. The signing key: created when missing; a key of another kind only replaced with --force.
      let keyStatus: StepStatus = 'created'
      if (handles.includes(handle)) {
        const pub = await this.readPublicIn(ctx, handle)
        if (isSigningKeyOfOurKind(pub)) {
          keyStatus = 'unchanged'
        } else if (!opts.force) {
          throw new TpmError('WRONG_KEY_KIND', `${H} is occupied by ${describeKey(pub)}, not an RSA-2048 RSASSA/SHA-256 signing key`, {
            suggestions: [`pass --force to evict it and create the signing key there, or use another --handle`],
            details: {handle: H, found: pub},
          })
        } else {
          keyStatus = 'replaced'
          if (wire) {
            record({tool: 'tpm2_evictcontrol', args: ['-Q', '-C', 'o', ...authArgs, '-c', H], handle: H})
            await this.wire((w) => w.evictControl(handle, handle, opts.ownerAuth))
          } else {
            await change({tool: 'tpm2_evictcontrol', args: ['-Q', '-C', 'o', ...authArgs, '-c', H], handle: H})
          }
        }
      }
      if (keyStatus !== 'unchanged' && wire) {
        // Key generation stays with tpm2_create; loading and persisting go over one connection.
        await change({tool: 'tpm2_create', args: ['-Q', '-G', 'rsa2048:rsassa:null', '-g', 'sha256', '-u', 'key.pub', '-r', 'key.priv', '-C', SRK], handle: SRK})
        record({tool: 'tpm2_load', args: ['-Q', '-C', SRK, '-u', 'key.pub', '-r', 'key.priv', '-c', 'key.ctx']})
        record({tool: 'tpm2_evictcontrol', args: ['-Q', '-C', 'o', ...authArgs, '-c', 'key.ctx', H]})
        const pub = await readFile(join(ctx.workDir, 'key.pub'))
        const priv = await readFile(join(ctx.workDir, 'key.priv'))
        await this.wire(async (w) => {
          const t = await w.load(srkHandle, pub, priv)
          try {
            await w.evictControl(t, handle, opts.ownerAuth)
          } finally {
            await w.flushContext(t).catch(() => undefined)
          }
        })
      } else if (keyStatus !== 'unchanged') {
        try {
          // Exactly the seed README's sequence.
          await change({tool: 'tpm2_create', args: ['-Q', '-G', 'rsa2048:rsassa:null', '-g', 'sha256', '-u', 'key.pub', '-r', 'key.priv', '-C', SRK], handle: SRK})
          await change({tool: 'tpm2_load', args: ['-Q', '-C', SRK, '-u', 'key.pub', '-r', 'key.priv', '-c', 'key.ctx'], handle: SRK})
          await change({tool: 'tpm2_evictcontrol', args: ['-Q', '-C', 'o', ...authArgs, '-c', 'key.ctx', H], handle: H})
        } finally {
          await flush()
        }
      }
      const report: ProvisionReport = {
        tcti: this.tcti,
        transport: this.transport,
        dryRun: Boolean(opts.dryRun),
        srk: {handle: SRK, status: srkStatus},
        key: {handle: H, status: keyStatus},
        commands,
      }
      if (!opts.dryRun || keyStatus === 'unchanged') report.key.fingerprintSha256 = fingerprint(await this.pubkeyPemIn(ctx, handle))
      return report
    })
  }

  /** Removes a persistent object. The caller refuses the storage key and asks for confirmation. */
  async evict(handle: number, opts: {ownerAuth?: string; dryRun?: boolean} = {}): Promise<{handle: string; status: 'evicted'; dryRun: boolean; description: string; command: string}> {
    return this.exclusive(async (ctx) => {
      const H = formatHandle(handle)
      const handles = await parsePersistentHandles(await runTool(ctx, {tool: 'tpm2_getcap', args: ['handles-persistent']}))
      if (!handles.includes(handle)) {
        throw new TpmError('HANDLE_NOT_FOUND', `no persistent object at ${H} (TCTI ${this.tcti})`, {suggestions: ['run "trustctl tpm status" to see the handles in use']})
      }
      const description = describeKey(await this.readPublicIn(ctx, handle))
      const args = ['-Q', '-C', 'o']
      if (opts.ownerAuth !== undefined) {
        const authFile = join(ctx.workDir, 'owner.auth')
        await writeFile(authFile, opts.ownerAuth, {mode: 0o600})
        args.push('-P', `file:${authFile}`)
      }
      args.push('-c', H)
      const call = {tool: 'tpm2_evictcontrol', args, handle: H}
      if (!opts.dryRun) await runTool(ctx, call)
      return {handle: H, status: 'evicted', dryRun: Boolean(opts.dryRun), description, command: renderCall({...call, args: call.args.map((a) => (a.startsWith('file:') ? 'file:<owner-auth-file>' : a))}, this.tcti)}
    })
  }

  private async readPublicIn(ctx: ToolContext, handle: number): Promise<PublicInfo> {
    return parseReadPublic(await runTool(ctx, {tool: 'tpm2_readpublic', args: ['-c', formatHandle(handle)], handle: formatHandle(handle)}))
  }

  private async pubkeyPemIn(ctx: ToolContext & {workDir: string}, handle: number): Promise<string> {
    if (this.transport === 'wire') {
      const pem = await this.wire((w) => w.rsaPublicKeyPem(handle))
      if (pem) return pem
    }
    const out = join(ctx.workDir, `pub-${handle.toString(16)}.pem`)
    await runTool(ctx, {tool: 'tpm2_readpublic', args: ['-Q', '-c', formatHandle(handle), '-f', 'pem', '-o', out], handle: formatHandle(handle)})
    return readFile(out, 'utf8')
  }
}

/** SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex (what `openssl pkey -pubin -outform der | sha256sum` prints). */
export function fingerprint(pem: string): string {
  const der = createPublicKey(pem).export({type: 'spki', format: 'der'})
  return createHash('sha256').update(der).digest('hex')
}

/** True when the error means "no TPM there", for doctor. */
export function isUnreachable(err: unknown): boolean {
  return isTrustctlError(err) && (err.code === 'TCTI_UNAVAILABLE' || err.code === 'TPM_TIMEOUT')
}
