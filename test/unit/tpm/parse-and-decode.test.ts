import {describe, expect, it} from 'vitest'

import {decodeToolFailure} from '../../../src/lib/tpm/errors.js'
import {formatHandle, parsePersistentHandle} from '../../../src/lib/tpm/handles.js'
import {isSigningKeyOfOurKind, isStorageKey, parseFixedProperties, parsePersistentHandles, parseReadPublic} from '../../../src/lib/tpm/parse.js'
import {lockPathFor, parseTcti} from '../../../src/lib/tpm/tcti.js'
import {buildSignCommand, parseSignResponse} from '../../../src/lib/tpm/wire.js'

// Output recorded from tpm2-tools 5.4 against swtpm 0.7.1 (specs/tpm.md §5.1).
const READPUBLIC_KEY = `name: 000b3a5e99e7aad14adccd4addf9c54544614b3363cf15f1ef9dabd5cbf8c9a759fa
qualified name: 000bd03ef54cdd6e5f56187d4c1a4598750738646d333a55f1a5e23bc0649de4327e
name-alg:
  value: sha256
  raw: 0xb
attributes:
  value: fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign
  raw: 0x40072
type:
  value: rsa
  raw: 0x1
exponent: 65537
bits: 2048
scheme:
  value: rsassa
  raw: 0x14
scheme-halg:
  value: sha256
  raw: 0xb
sym-alg:
  value: null
  raw: 0x10
sym-mode:
  value: (null)
  raw: 0x0
sym-keybits: 0
rsa: dabd2571d0a8
`

describe('tpm2-tools output parsing', () => {
  it('persistent handles: upper-case hex, and nothing at all when empty', async () => {
    expect(await parsePersistentHandles('- 0x81000001\n- 0x8100ABCD\n')).toEqual([0x81000001, 0x8100abcd])
    expect(await parsePersistentHandles('')).toEqual([])
    expect(await parsePersistentHandles('garbage: [')).toEqual([])
  })

  it('readpublic of the signing key', async () => {
    const p = await parseReadPublic(READPUBLIC_KEY)
    expect(p).toMatchObject({type: 'rsa', bits: 2048, exponent: 65537, scheme: 'rsassa', schemeHalg: 'sha256', attributesRaw: 0x40072, nameAlg: 'sha256'})
    expect(isSigningKeyOfOurKind(p)).toBe(true)
    expect(isStorageKey(p)).toBe(false)
  })

  it('an ECC key or a restricted key is not our kind', async () => {
    const ecc = await parseReadPublic(READPUBLIC_KEY.replace('value: rsa\n', 'value: ecc\n'))
    expect(isSigningKeyOfOurKind(ecc)).toBe(false)
    const restricted = await parseReadPublic(READPUBLIC_KEY.replace('userwithauth|sign', 'userwithauth|restricted|sign'))
    expect(isSigningKeyOfOurKind(restricted)).toBe(false)
  })

  it('fixed properties: manufacturer, vendor, firmware', async () => {
    const t = await parseFixedProperties(`TPM2_PT_FAMILY_INDICATOR:
  raw: 0x322E3000
  value: "2.0"
TPM2_PT_MANUFACTURER:
  raw: 0x49424D00
  value: "IBM"
TPM2_PT_VENDOR_STRING_1:
  raw: 0x53572020
  value: "SW"
TPM2_PT_VENDOR_STRING_2:
  raw: 0x2054504D
  value: " TPM"
TPM2_PT_FIRMWARE_VERSION_1:
  raw: 0x20191023
TPM2_PT_FIRMWARE_VERSION_2:
  raw: 0x163636
`)
    expect(t).toMatchObject({manufacturer: 'IBM', vendor: 'SW TPM', family: '2.0', firmwareVersion: '8217.4131.22.13878'})
  })
})

describe('failure decoding (specs/tpm.md §5.2)', () => {
  const ctx = {tool: 'tpm2_x', tcti: 'swtpm:path=/s', handle: '0x81008007'}
  it.each([
    ['ERROR: Esys_TR_FromTPMPublic(0x18B) - tpm:handle(1):the handle is not correct for the use\nERROR: Unable to run tpm2_readpublic', 'HANDLE_NOT_FOUND', 3],
    ['ERROR: Esys_EvictControl(0x14C) - tpm:error(2.0): NV Index or persistent object already defined', 'HANDLE_OCCUPIED', 8],
    ['ERROR: Esys_EvictControl(0x9A2) - tpm:session(1):authorization failure without DA implications', 'AUTH_FAILED', 4],
    ['ERROR: Esys_StartAuthSession(0x903) - tpm:warn(2.0): out of memory for session contexts', 'OUT_OF_SESSIONS', 5],
    ['ERROR: Esys_CreatePrimary(0x902) - tpm:warn(2.0): out of memory for object contexts', 'OUT_OF_OBJECTS', 5],
    ['ERROR: Could not load tcti, got: "swtpm:path=/s"', 'TCTI_UNAVAILABLE', 5],
    ['ERROR: Eys_Sign(0x1D5) - tpm:parameter(1):structure is the wrong size', 'INVALID_DIGEST', 2],
    ['ERROR: Esys_GetCapability(0x100) - tpm:error(2.0): TPM not initialized by TPM2_Startup or already initialized', 'NOT_INITIALIZED', 5],
    ['ERROR: Cannot make sense of object context "0x8100800G"', 'INVALID_HANDLE', 2],
    ['ERROR: something new(0x123) - tpm:who knows', 'TPM_ERROR', 5],
  ] as const)('%s', (stderr, code, exit) => {
    const err = decodeToolFailure(stderr, 1, ctx)
    expect(err.code).toBe(code)
    expect(err.exitCode).toBe(exit)
  })

  it('auth failures name the owner-auth flag; TCTI failures name the TCTI', () => {
    expect(decodeToolFailure('ERROR: Esys_EvictControl(0x9A2) - x', 1, ctx).suggestions[0]).toContain('--owner-auth-file')
    expect(decodeToolFailure('ERROR: Could not load tcti, got: "x"', 1, ctx).message).toContain('swtpm:path=/s')
  })
})

describe('handles and TCTIs', () => {
  it('parses persistent handles and rejects the rest', () => {
    expect(parsePersistentHandle('0x81008006', '--handle')).toBe(0x81008006)
    expect(parsePersistentHandle('0X8100800a', '--handle')).toBe(0x8100800a)
    expect(parsePersistentHandle(String(0x81000001), '--handle')).toBe(0x81000001)
    expect(() => parsePersistentHandle('0x80000001', '--handle')).toThrow(/not a persistent handle/)
    expect(() => parsePersistentHandle('key', '--handle')).toThrow(/not a TPM handle/)
    expect(formatHandle(0x81008006)).toBe('0x81008006')
  })

  it('understands the TCTIs and puts the lock next to a swtpm socket', () => {
    expect(parseTcti('swtpm:path=/run/x/sock')).toMatchObject({kind: 'swtpm-unix', path: '/run/x/sock'})
    expect(parseTcti('swtpm:host=127.0.0.1,port=2321')).toMatchObject({kind: 'swtpm-tcp', host: '127.0.0.1', port: 2321})
    expect(parseTcti('device:/dev/tpmrm0')).toMatchObject({kind: 'device', path: '/dev/tpmrm0'})
    expect(parseTcti('tabrmd:bus_type=session').kind).toBe('other')
    for (const bad of ['swtpm:port=abc', 'swtpm:host=127.0.0.1,port=70000', 'swtpm:port=0']) expect(() => parseTcti(bad), bad).toThrow(/is not a TCP port/)
    expect(lockPathFor(parseTcti('swtpm:path=/run/x/sock'))).toBe('/run/x/.sock.trustctl.lock')
    expect(lockPathFor(parseTcti('device:/dev/tpmrm0'))).toMatch(/trustctl-tpm-tpmrm0\.lock$/)
  })
})

describe('TPM2_Sign wire format (specs/tpm.md §7.4)', () => {
  it('builds the command: TPM_ST_SESSIONS, TPM_CC_Sign, handle, password session, digest, RSASSA/SHA256, NULL ticket', () => {
    const digest = Buffer.alloc(32, 0xab)
    const cmd = buildSignCommand(0x81008006, digest)
    expect(cmd.readUInt16BE(0)).toBe(0x8002)
    expect(cmd.readUInt32BE(2)).toBe(cmd.length)
    expect(cmd.readUInt32BE(6)).toBe(0x15d)
    expect(cmd.readUInt32BE(10)).toBe(0x81008006)
    expect(cmd.readUInt32BE(14)).toBe(9)
    expect(cmd.readUInt32BE(18)).toBe(0x40000009)
    expect(cmd.readUInt16BE(27)).toBe(32)
    expect(cmd.subarray(29, 61).equals(digest)).toBe(true)
    expect(cmd.subarray(61).toString('hex')).toBe('0014000b' + '8024' + '40000007' + '0000')
  })

  it('reads the signature at offset 20, and decodes an error response code', () => {
    const sig = Buffer.alloc(256, 7)
    const res = Buffer.alloc(20 + 256 + 5)
    res.writeUInt16BE(0x8002, 0)
    res.writeUInt32BE(res.length, 2)
    res.writeUInt32BE(0, 6)
    res.writeUInt16BE(0x14, 14)
    res.writeUInt16BE(0x0b, 16)
    res.writeUInt16BE(256, 18)
    sig.copy(res, 20)
    expect(parseSignResponse(res, {tcti: 't', handle: 'h'}).equals(sig)).toBe(true)
    const err = Buffer.from('80010000000a0000018b', 'hex')
    expect(() => parseSignResponse(err, {tcti: 't', handle: 'h'})).toThrow(expect.objectContaining({code: 'HANDLE_NOT_FOUND'}))
  })
})
