import {createPublicKey} from 'node:crypto'
import {open, type FileHandle} from 'node:fs/promises'
import {createConnection, type Socket} from 'node:net'

import {decodeRc, TpmError} from './errors.js'
import {formatHandle} from './handles.js'
import type {Tcti} from './tcti.js'
import {buildSignCommand, parseSignResponse} from './wire.js'

/**
 * A short-lived connection to the TPM that carries several raw TPM 2.0 commands (swtpm's data
 * socket, or one open /dev/tpmrm0: the kernel resource manager keeps a connection's transient
 * objects until it is closed, so Load + EvictControl + FlushContext must share one connection).
 * Only the few fixed-shape commands provisioning needs; marshalling per TPM 2.0 Part 3.
 */
const ST_NO_SESSIONS = 0x8001
const ST_SESSIONS = 0x8002
const RS_PW = 0x40000009
const RH_OWNER = 0x40000001
const CC = {CreatePrimary: 0x131, EvictControl: 0x120, Load: 0x157, FlushContext: 0x165, ReadPublic: 0x173, GetCapability: 0x17a} as const
const CAP_HANDLES = 0x00000001
const RETRY_RCS = new Set([0x922, 0x908, 0x90a])

interface Transport {
  send(cmd: Buffer): Promise<Buffer>
  close(): Promise<void>
}

export class WireSession {
  private constructor(
    private readonly t: Transport,
    private readonly tcti: Tcti,
    private readonly timeoutMs: number,
  ) {}

  static async open(tcti: Tcti, timeoutMs: number): Promise<WireSession> {
    const t = tcti.kind === 'device' ? await deviceTransport(tcti, timeoutMs) : await socketTransport(tcti, timeoutMs)
    return new WireSession(t, tcti, timeoutMs)
  }

  async close(): Promise<void> {
    await this.t.close()
  }

  /** Sends a command, resubmitting on the TPM's "try again" warnings, and checks the response code. */
  private async call(name: string, cmd: Buffer, handle?: number): Promise<Buffer> {
    const deadline = Date.now() + this.timeoutMs
    for (let delay = 2; ; delay = Math.min(100, delay * 2)) {
      const res = await this.t.send(cmd)
      if (res.length < 10) throw new TpmError('TPM_ERROR', `short response to ${name} from ${this.tcti.text}`)
      const rc = res.readUInt32BE(6)
      if (rc === 0) return res
      if (RETRY_RCS.has(rc) && Date.now() + delay < deadline) {
        await new Promise((r) => setTimeout(r, delay))
        continue
      }
      const ctx = {tool: `TPM2_${name}`, tcti: this.tcti.text, ...(handle === undefined ? {} : {handle: formatHandle(handle)})}
      throw decodeRc(rc, ctx, {rc: `0x${rc.toString(16)}`}) ?? new TpmError('TPM_ERROR', `TPM2_${name} failed with response code 0x${rc.toString(16)} (TCTI ${this.tcti.text})`)
    }
  }

  async handles(first: number): Promise<number[]> {
    const out: number[] = []
    let next = first
    for (;;) {
      const res = await this.call('GetCapability', command(ST_NO_SESSIONS, CC.GetCapability, [], Buffer.concat([u32(CAP_HANDLES), u32(next), u32(64)])))
      const more = res.readUInt8(10)
      const count = res.readUInt32BE(15)
      for (let i = 0; i < count; i++) out.push(res.readUInt32BE(19 + 4 * i))
      if (!more || count === 0) return out.filter((h) => h >>> 24 === first >>> 24)
      next = (out.at(-1) as number) + 1
    }
  }

  async flushContext(handle: number): Promise<void> {
    await this.call('FlushContext', command(ST_NO_SESSIONS, CC.FlushContext, [], u32(handle)))
  }

  /** The TCG RSA-2048 storage key template (specs/tpm.md §3); returns the transient handle. */
  async createPrimaryStorageKey(ownerAuth: string | undefined): Promise<number> {
    const template = Buffer.concat([
      u16(0x0001), // TPM_ALG_RSA
      u16(0x000b), // nameAlg SHA256
      u32(0x00030472), // fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|decrypt
      u16(0), // authPolicy
      u16(0x0006), u16(128), u16(0x0043), // symmetric AES-128-CFB
      u16(0x0010), // scheme NULL
      u16(2048),
      u32(0), // exponent: default 65537
      u16(256), Buffer.alloc(256), // unique: 256 zero bytes
    ])
    const inSensitive = Buffer.concat([u16(4), u16(0), u16(0)])
    const params = Buffer.concat([inSensitive, u16(template.length), template, u16(0), u32(0)])
    const res = await this.call('CreatePrimary', command(ST_SESSIONS, CC.CreatePrimary, [RH_OWNER], params, ownerAuth))
    return res.readUInt32BE(10)
  }

  /** Loads a key made by tpm2_create (its -u/-r files are the marshalled TPM2B_PUBLIC / TPM2B_PRIVATE). */
  async load(parent: number, publicBlob: Buffer, privateBlob: Buffer): Promise<number> {
    const res = await this.call('Load', command(ST_SESSIONS, CC.Load, [parent], Buffer.concat([privateBlob, publicBlob]), ''), parent)
    return res.readUInt32BE(10)
  }

  async evictControl(objectHandle: number, persistentHandle: number, ownerAuth: string | undefined): Promise<void> {
    await this.call('EvictControl', command(ST_SESSIONS, CC.EvictControl, [RH_OWNER, objectHandle], u32(persistentHandle), ownerAuth), persistentHandle)
  }

  /** TPM2_Sign with the RSASSA/SHA-256 scheme over a 32-byte digest. */
  async sign(handle: number, digest: Uint8Array): Promise<Buffer> {
    const res = await this.call('Sign', buildSignCommand(handle, digest), handle)
    return parseSignResponse(res, {tcti: this.tcti.text, handle: formatHandle(handle)})
  }

  /** ReadPublic of an RSA key as SubjectPublicKeyInfo PEM; undefined for other key types. */
  async rsaPublicKeyPem(handle: number): Promise<string | undefined> {
    const res = await this.call('ReadPublic', command(ST_NO_SESSIONS, CC.ReadPublic, [handle], Buffer.alloc(0)), handle)
    return rsaPemFromPublicArea(res.subarray(12, 12 + res.readUInt16BE(10)))
  }
}

/** TPMT_PUBLIC of an RSA key -> SPKI PEM. */
export function rsaPemFromPublicArea(area: Buffer): string | undefined {
  let o = 0
  const type = area.readUInt16BE(o)
  if (type !== 0x0001) return undefined
  o += 2 + 2 + 4 // type, nameAlg, attributes
  o += 2 + area.readUInt16BE(o) // authPolicy
  const symAlg = area.readUInt16BE(o)
  o += 2
  if (symAlg !== 0x0010) o += 4 // keyBits, mode
  const scheme = area.readUInt16BE(o)
  o += 2
  if (scheme !== 0x0010) o += 2 // hashAlg
  o += 2 // keyBits
  const exponent = area.readUInt32BE(o) || 65537
  o += 4
  const n = area.subarray(o + 2, o + 2 + area.readUInt16BE(o))
  const e = Buffer.from(exponent.toString(16).padStart(6, '0'), 'hex')
  const key = createPublicKey({key: {kty: 'RSA', n: n.toString('base64url'), e: trimZeros(e).toString('base64url')}, format: 'jwk'})
  return key.export({type: 'spki', format: 'pem'}) as string
}

function trimZeros(b: Buffer): Buffer {
  let i = 0
  while (i < b.length - 1 && b[i] === 0) i++
  return b.subarray(i)
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n >>> 0)
  return b
}

/** Header, handles, one password session per authorized handle (when auth is given), parameters. */
function command(tag: number, cc: number, handles: number[], params: Buffer, auth?: string): Buffer {
  const parts: Buffer[] = handles.map(u32)
  if (tag === ST_SESSIONS) {
    const pw = Buffer.from(auth ?? '', 'utf8')
    const session = Buffer.concat([u32(RS_PW), u16(0), Buffer.from([0]), u16(pw.length), pw])
    parts.push(u32(session.length), session)
  }
  const body = Buffer.concat([...parts, params])
  return Buffer.concat([u16(tag), u32(10 + body.length), u32(cc), body])
}

async function socketTransport(tcti: Tcti, timeoutMs: number): Promise<Transport> {
  const sock: Socket = tcti.kind === 'swtpm-unix' ? createConnection(tcti.path as string) : createConnection(tcti.port as number, tcti.host)
  await new Promise<void>((resolve, reject) => {
    // A host that never answers the connection must not outlast --tpm-timeout.
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new TpmError('TPM_TIMEOUT', `no connection to the TPM within ${timeoutMs} ms (TCTI ${tcti.text})`))
    }, timeoutMs)
    sock.once('connect', () => {
      clearTimeout(timer)
      resolve()
    })
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(new TpmError('TCTI_UNAVAILABLE', `TPM not reachable through TCTI "${tcti.text}" (${e.code ?? e.message})`, {suggestions: ['check --tcti / TPM2TOOLS_TCTI, and that the TPM (or swtpm) is running']}))
    })
  })
  let pending: Buffer[] = []
  let waiter: (() => void) | undefined
  let closedErr: Error | undefined
  sock.on('data', (d: Buffer) => {
    pending.push(d)
    waiter?.()
  })
  sock.on('error', (e) => {
    closedErr = e
    waiter?.()
  })
  sock.on('close', () => {
    closedErr ??= new Error('connection closed')
    waiter?.()
  })
  return {
    async send(cmd) {
      sock.write(cmd)
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const all = Buffer.concat(pending)
        if (all.length >= 6 && all.length >= all.readUInt32BE(2)) {
          const size = all.readUInt32BE(2)
          pending = [all.subarray(size)]
          return all.subarray(0, size)
        }
        if (closedErr) throw new TpmError('TCTI_UNAVAILABLE', `the TPM at "${tcti.text}" closed the connection (${closedErr.message})`)
        const left = deadline - Date.now()
        if (left <= 0) {
          sock.destroy()
          throw new TpmError('TPM_TIMEOUT', `the TPM did not answer within ${timeoutMs} ms (TCTI ${tcti.text})`, {
            suggestions: ['is the TPM (or swtpm) hung or stopped? raise --tpm-timeout if it is only slow'],
          })
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left)
          waiter = () => {
            clearTimeout(timer)
            waiter = undefined
            resolve()
          }
        })
      }
    },
    async close() {
      sock.end()
      sock.destroy()
    },
  }
}

async function deviceTransport(tcti: Tcti, timeoutMs: number): Promise<Transport> {
  let fh: FileHandle
  try {
    fh = await open(tcti.path as string, 'r+')
  } catch (e) {
    throw new TpmError('TCTI_UNAVAILABLE', `TPM not reachable through TCTI "${tcti.text}" (${(e as NodeJS.ErrnoException).code})`, {
      suggestions: ['check that the device exists and that this user may open it (group tss)'],
    })
  }
  let readLeftPending = false
  return {
    async send(cmd) {
      await fh.write(cmd)
      const buf = Buffer.alloc(4096)
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          readLeftPending = true
          reject(new TpmError('TPM_TIMEOUT', `the TPM did not answer within ${timeoutMs} ms (TCTI ${tcti.text})`))
        }, timeoutMs)
      })
      const {bytesRead} = await Promise.race([fh.read(buf, 0, buf.length, null), timeout]).finally(() => clearTimeout(timer))
      return buf.subarray(0, bytesRead)
    },
    async close() {
      // close() waits for a pending read: after a timeout the read may never end, so do not wait.
      if (readLeftPending) void fh.close().catch(() => undefined)
      else await fh.close()
    },
  }
}
