import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {loadVerifierConfig} from '../../../src/lib/bundle/keyset-config.js'
import {loadSignerHttpConfig, loadSignerUnixConfig} from '../../../src/lib/services/config.js'
import {testKey} from '../../helpers/bundle-fixtures.js'
import {useTmpDir} from '../../helpers/tmp.js'

const tmp = useTmpDir()

// Verbatim from the seed README of spire-server-attestor-tpm (comments and spacing included).
const SIGNER_UNIX = `socket: /var/run/spire/server-attestor-tpm/signer-unix.sock
tpm-address: 0x81008006
duration:  10m

# Issuer can be set. Defaults to the hostname of the machine its running on.
# issuer: xxxx
`
const SIGNER_HTTP = `# Location of the signer-unix service socket
socket: /var/run/spire/server-attestor-tpm/signer-unix.sock

# Directory where keys will be looked up in. If relative, it will be relative to the location of this config file.
keydir: keys

# Key to verify signatures against.
primary: a.pem

# Backup key to allow for signatures. If seen, it will be logged.
backup: c.pem

# Port and optional ip address to listen on
listen-addr: ":8181"

# Alowed ip addresses allowed to talk to the service. Used to prevent random nodes from causing too much cpu load verifying certs. Signed certs are still required for proper auth.
allowed-addrs:
- 127.0.0.1
- 1.2.3.4
`
const VERIFIER_SINGLE = `keydir: keys
socket: /var/run/spire/server-attestor-tpm/verifier.sock
keyset:
  main:
    url: http://1.2.3.4/spiffetrustbundle.token
    backup: backup.pem
    chain:
    - primary.pem
`
const VERIFIER_HA = `keydir: keys
socket: /var/run/spire/server-attestor-tpm/verifier.sock
keyset:
  a:
    url: http://1.2.3.5/spiffetrustbundle.token
    backup: backup.pem
    chain:
    - a.pem
    - b.pem
  b:
    url: http://1.2.3.6/spiffetrustbundle.token
    backup: backup.pem
    chain:
    - b.pem
    - a.pem
`

function keysIn(dir: string, names: string[]) {
  mkdirSync(join(dir, 'keys'), {recursive: true})
  for (const n of names) writeFileSync(join(dir, 'keys', n), testKey(n).publicPem)
}

describe("the seed README's config files load unchanged", () => {
  it('signer-unix.conf: tpm-address 0x81008006 unquoted is read as text, as the Go reference does', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'signer-unix.conf'), SIGNER_UNIX)
    const c = await loadSignerUnixConfig(join(dir, 'signer-unix.conf'))
    expect(c).toMatchObject({socket: '/var/run/spire/server-attestor-tpm/signer-unix.sock', tpmHandle: 0x81008006, durationMs: 600_000, filename: 'spiffetrustbundle.token', tmpfile: 'spiffetrustbundle.token.tmp'})
    expect(c.issuer).toBeUndefined()
  })

  it('signer-unix.conf: ${VAR} expansion, and precise errors', async () => {
    const dir = tmp()
    process.env.TRUSTCTL_TEST_SOCK = '/run/x.sock'
    writeFileSync(join(dir, 'a.conf'), 'socket: ${TRUSTCTL_TEST_SOCK}\ntpm-address: 0x81008006\nduration: 1h\nissuer: $TRUSTCTL_TEST_SOCK\n')
    expect(await loadSignerUnixConfig(join(dir, 'a.conf'))).toMatchObject({socket: '/run/x.sock', issuer: '/run/x.sock', durationMs: 3_600_000})
    writeFileSync(join(dir, 'b.conf'), 'socket: /s\ntpm-address: 2164293638\nduration: 10m\n')
    await expect(loadSignerUnixConfig(join(dir, 'b.conf'))).rejects.toThrow(/tpm-address must start with 0x/)
    writeFileSync(join(dir, 'c.conf'), 'socket: /s\ntpm-address: 0x81008006\n')
    await expect(loadSignerUnixConfig(join(dir, 'c.conf'))).rejects.toThrow(/"duration" is required/)
    // A bad body-limit must not switch the limit off.
    for (const limit of ['1MiB', '0', '-5']) {
      writeFileSync(join(dir, 'd.conf'), `socket: /s\ntpm-address: 0x81008006\nduration: 1h\nbody-limit: ${limit}\n`)
      await expect(loadSignerUnixConfig(join(dir, 'd.conf')), limit).rejects.toThrow(/body-limit/)
    }
    await expect(loadSignerUnixConfig(join(dir, 'missing.conf'))).rejects.toMatchObject({code: 'FILE_NOT_FOUND', exitCode: 3})
  })

  it('signer-http.conf: keydir relative to the file, primary and backup keys', async () => {
    const dir = tmp()
    keysIn(dir, ['a.pem', 'c.pem'])
    writeFileSync(join(dir, 'signer-http.conf'), SIGNER_HTTP)
    const c = await loadSignerHttpConfig(join(dir, 'signer-http.conf'))
    expect(c).toMatchObject({listenAddr: ':8181', allowedAddrs: ['127.0.0.1', '1.2.3.4'], keydir: join(dir, 'keys'), bodyLimit: 1024 * 1024})
    expect(c.primary.name).toBe('a.pem')
    expect(c.backup?.name).toBe('c.pem')
  })

  it('a dangling link in keydir is a config error naming it', async () => {
    const dir = tmp()
    keysIn(dir, ['primary.pem', 'backup.pem'])
    symlinkSync(join(dir, 'nowhere.pem'), join(dir, 'keys', 'dangling.pem'))
    writeFileSync(join(dir, 'single.conf'), VERIFIER_SINGLE)
    await expect(loadVerifierConfig(join(dir, 'single.conf'))).rejects.toMatchObject({code: 'CONFIG_INVALID', message: expect.stringMatching(/dangling\.pem in keydir cannot be read \(ENOENT/)})
  })

  it('both verifier.conf examples', async () => {
    const dir = tmp()
    keysIn(dir, ['primary.pem', 'backup.pem', 'a.pem', 'b.pem'])
    writeFileSync(join(dir, 'single.conf'), VERIFIER_SINGLE)
    writeFileSync(join(dir, 'ha.conf'), VERIFIER_HA)
    const single = await loadVerifierConfig(join(dir, 'single.conf'))
    expect(single.keysets.get('main')!.chain.map((k) => k.name)).toEqual(['primary.pem'])
    const ha = await loadVerifierConfig(join(dir, 'ha.conf'))
    expect(ha.keysets.get('a')!.chain.map((k) => k.name)).toEqual(['a.pem', 'b.pem'])
    expect(ha.keysets.get('b')!.chain.map((k) => k.name)).toEqual(['b.pem', 'a.pem'])
    expect(ha.socket).toBe('/var/run/spire/server-attestor-tpm/verifier.sock')
  })
})
