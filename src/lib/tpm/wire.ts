import {decodeRc, TpmError} from './errors.js'
import type {Tcti} from './tcti.js'

/**
 * TPM2_Sign sent straight to the TPM (swtpm's data socket or /dev/tpmrm0): the same bytes
 * tpm2-tools would send, without a process and five round trips per signature (specs/tpm.md §7.4).
 * Only used for TCTIs whose transport is a plain byte stream (see wire-session.ts).
 */
const TPM_ST_SESSIONS = 0x8002
const TPM_CC_SIGN = 0x0000015d
const TPM_RS_PW = 0x40000009
const TPM_ALG_RSASSA = 0x0014
const TPM_ALG_SHA256 = 0x000b
const TPM_ST_HASHCHECK = 0x8024
const TPM_RH_NULL = 0x40000007

export function supportsWire(tcti: Tcti): boolean {
  return tcti.kind === 'swtpm-unix' || tcti.kind === 'swtpm-tcp' || (tcti.kind === 'device' && /tpmrm\d+$/.test(tcti.path ?? ''))
}

export function buildSignCommand(handle: number, digest: Uint8Array): Buffer {
  const body = Buffer.alloc(4 + 4 + 9 + 2 + digest.length + 4 + 8)
  let o = 0
  o = body.writeUInt32BE(handle, o)
  o = body.writeUInt32BE(9, o) // authorization area: one empty password session
  o = body.writeUInt32BE(TPM_RS_PW, o)
  o = body.writeUInt16BE(0, o) // nonce
  o = body.writeUInt8(0, o) // session attributes
  o = body.writeUInt16BE(0, o) // hmac (empty password)
  o = body.writeUInt16BE(digest.length, o)
  Buffer.from(digest).copy(body, o)
  o += digest.length
  o = body.writeUInt16BE(TPM_ALG_RSASSA, o)
  o = body.writeUInt16BE(TPM_ALG_SHA256, o)
  o = body.writeUInt16BE(TPM_ST_HASHCHECK, o) // NULL ticket: the digest was not made by the TPM
  o = body.writeUInt32BE(TPM_RH_NULL, o)
  o = body.writeUInt16BE(0, o)
  const header = Buffer.alloc(10)
  header.writeUInt16BE(TPM_ST_SESSIONS, 0)
  header.writeUInt32BE(10 + o, 2)
  header.writeUInt32BE(TPM_CC_SIGN, 6)
  return Buffer.concat([header, body.subarray(0, o)])
}

/** Extracts the signature from a TPM2_Sign response, or throws the decoded response code. */
export function parseSignResponse(res: Buffer, ctx: {tcti: string; handle: string}): Buffer {
  if (res.length < 10) throw new TpmError('TPM_ERROR', `short TPM response (${res.length} bytes) from ${ctx.tcti}`)
  const rc = res.readUInt32BE(6)
  if (rc !== 0) {
    throw (
      decodeRc(rc, {tool: 'TPM2_Sign', tcti: ctx.tcti, handle: ctx.handle}, {rc: `0x${rc.toString(16)}`}) ??
      new TpmError('TPM_ERROR', `TPM2_Sign failed with response code 0x${rc.toString(16)} (TCTI ${ctx.tcti})`, {details: {rc: `0x${rc.toString(16)}`}})
    )
  }
  // header(10) parameterSize(4) sigAlg(2) hash(2) size(2) signature
  const sigAlg = res.readUInt16BE(14)
  if (sigAlg !== TPM_ALG_RSASSA) throw new TpmError('WRONG_KEY_KIND', `${ctx.handle} signed with algorithm 0x${sigAlg.toString(16)}, not RSASSA`)
  const size = res.readUInt16BE(18)
  return Buffer.from(res.subarray(20, 20 + size))
}

