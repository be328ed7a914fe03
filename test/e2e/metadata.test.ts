import {chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {json, runCli, type CliResult} from '../helpers/cli.js'
import {useTmpDir} from '../helpers/tmp.js'

const tmp = useTmpDir()
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const ID = 'f2554a90-8ce7-4d73-9788-cf842e31c4ef'

/** Same command, human and --json: the exit code must match, the JSON error must carry code and exitCode. */
async function bothModes(args: string[], opts: Parameters<typeof runCli>[1] = {}): Promise<{human: CliResult; machine: CliResult}> {
  const human = await runCli(args, opts)
  const machine = await runCli([...args, '--json'], opts)
  expect(machine.code, `--json exit code differs: ${machine.stdout}`).toBe(human.code)
  return {human, machine}
}

function expectError(r: {human: CliResult; machine: CliResult}, code: string, exitCode: number, message: RegExp) {
  expect(r.human.code).toBe(exitCode)
  expect(r.human.stdout).toBe('')
  const firstLine = r.human.stderr.split('\n')[0]!
  expect(firstLine).toMatch(/^Error: /)
  expect(firstLine).toMatch(message)
  expect(r.human.stderr).not.toMatch(/\n\s+at /) // no stack trace
  const body = json(r.machine)
  expect(body.error).toMatchObject({code, exitCode})
  expect(body.error.message).toMatch(message)
  expect(Array.isArray(body.error.suggestions)).toBe(true)
}

describe('metadata init', () => {
  it('creates missing parents 0700 and the file 0600 with exactly a lowercase UUIDv4, prints the ID', async () => {
    const dir = tmp()
    const file = join(dir, 'spire', 'ctmkms', 'ctmkms-key-metadata')
    const r = await runCli(['metadata', 'init', '--file', file])
    expect(r.code).toBe(0)
    const id = r.stdout.trim()
    expect(r.stdout).toBe(`${id}\n`)
    expect(id).toMatch(UUID)
    expect(readFileSync(file, 'utf8')).toBe(id) // 36 characters, no newline
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'spire')).mode & 0o777).toBe(0o700)
    expect(statSync(join(dir, 'spire', 'ctmkms')).mode & 0o777).toBe(0o700)
    expect(r.stderr).toContain('created')
  })

  it('writes a given server ID normalised to lower case; --json returns the result object', async () => {
    const dir = tmp()
    const file = join(dir, 'meta')
    const r = await runCli(['metadata', 'init', '--file', file, '--server-id', ID.toUpperCase(), '--json'])
    expect(r.code).toBe(0)
    expect(json(r)).toMatchObject({file, serverId: ID, status: 'created', mode: '0600', dryRun: false})
    expect(readFileSync(file, 'utf8')).toBe(ID)
  })

  it('is idempotent with the same --server-id (unchanged, exit 0) and repairs the mode (updated)', async () => {
    const dir = tmp()
    const file = join(dir, 'meta')
    await runCli(['metadata', 'init', '--file', file, '--server-id', ID])
    const again = await runCli(['metadata', 'init', '--file', file, '--server-id', ID, '--json'])
    expect(again.code).toBe(0)
    expect(json(again).status).toBe('unchanged')
    chmodSync(file, 0o644)
    const fixed = await runCli(['metadata', 'init', '--file', file, '--server-id', ID, '--json'])
    expect(json(fixed).status).toBe('updated')
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it('never replaces an existing file without --force (exit 8, file untouched)', async () => {
    const dir = tmp()
    const file = join(dir, 'meta')
    writeFileSync(file, ID, {mode: 0o600})
    const before = statSync(file)
    const r = await bothModes(['metadata', 'init', '--file', file])
    expectError(r, 'EXISTS', 8, /already exists and holds server ID f2554a90/)
    const other = await bothModes(['metadata', 'init', '--file', file, '--server-id', '11111111-2222-4333-8444-555555555555'])
    expectError(other, 'EXISTS', 8, /already exists/)
    expect(readFileSync(file, 'utf8')).toBe(ID)
    expect(statSync(file).mtimeMs).toBe(before.mtimeMs)
    expect(readdirSync(dir)).toEqual(['meta'])
  })

  it('--force replaces it and reports the lost previous ID; --dry-run writes nothing', async () => {
    const dir = tmp()
    const file = join(dir, 'meta')
    writeFileSync(file, ID, {mode: 0o600})
    const dry = await runCli(['metadata', 'init', '--file', file, '--force', '--dry-run', '--json'])
    expect(dry.code).toBe(0)
    expect(json(dry)).toMatchObject({status: 'replaced', previousServerId: ID, dryRun: true})
    expect(readFileSync(file, 'utf8')).toBe(ID)
    const r = await runCli(['metadata', 'init', '--file', file, '--force'])
    expect(r.code).toBe(0)
    const newId = r.stdout.trim()
    expect(newId).toMatch(UUID)
    expect(newId).not.toBe(ID)
    expect(readFileSync(file, 'utf8')).toBe(newId)
    expect(r.stderr).toContain(`replaced server ID ${ID}`)
  })

  it('rejects a server ID that is not a UUID (exit 2) and writes nothing', async () => {
    const dir = tmp()
    const file = join(dir, 'meta')
    const r = await bothModes(['metadata', 'init', '--file', file, '--server-id', 'not-a-uuid'])
    expectError(r, 'INVALID_SERVER_ID', 2, /"not-a-uuid" is not a UUID/)
    expect(readdirSync(dir)).toEqual([])
  })

  it('refuses a directory as the file (exit 6)', async () => {
    const dir = tmp()
    const r = await bothModes(['metadata', 'init', '--file', dir, '--force'])
    expectError(r, 'NOT_REGULAR_FILE', 6, /is a directory/)
  })

  it('names the missing flag when --file is not given (exit 2)', async () => {
    const dir = tmp()
    const r = await bothModes(['metadata', 'init'], {cwd: dir, env: {HOME: dir, TRUSTCTL_METADATA_FILE: undefined}})
    expectError(r, 'MISSING_FLAG', 2, /missing required --file/)
  })

  it('takes the file from the profile', async () => {
    const dir = tmp()
    const file = join(dir, 'from-profile')
    mkdirSync(join(dir, '.config', 'trustctl'), {recursive: true})
    writeFileSync(join(dir, '.config', 'trustctl', 'config.yaml'), `profiles:\n  default:\n    metadata-file: ${file}\n`)
    const r = await runCli(['metadata', 'init', '--json'], {cwd: dir, env: {HOME: dir, XDG_CONFIG_HOME: undefined}})
    expect(r.code).toBe(0)
    expect(json(r).file).toBe(file)
  })
})

describe('metadata show', () => {
  it('prints the server ID, mode and owner', async () => {
    const dir = tmp()
    const file = join(dir, 'meta')
    writeFileSync(file, ID, {mode: 0o600})
    const r = await runCli(['metadata', 'show', '--file', file, '--json'])
    expect(r.code).toBe(0)
    const body = json(r)
    expect(body).toMatchObject({file, serverId: ID, mode: '0600', problems: []})
    expect(body.owner.uid).toBe(process.getuid!())
    expect(body.plugin).toBeUndefined()
    const human = await runCli(['metadata', 'show', '--file', file])
    expect(human.stdout).toContain(`server ID:  ${ID}`)
  })

  it('with a trust domain: the labels, key names and filter the plugin derives', async () => {
    const dir = tmp()
    const file = join(dir, 'meta')
    writeFileSync(file, ID, {mode: 0o600})
    const r = await runCli(['metadata', 'show', '--file', file, '--trust-domain', 'spiffe://example.org', '--json'])
    expect(r.code).toBe(0)
    const {plugin} = json(r)
    // sha1("example.org"), computed independently: printf %s example.org | sha1sum
    const tdHash = '20116dfd6774a9e7b32eddfea3f6cb094e38fc3f'
    expect(plugin.trustDomain).toBe('example.org')
    expect(plugin.labels).toMatchObject({'spire-server-td': tdHash, 'spire-server-id': ID, 'spire-active': 'true'})
    expect(plugin.keys.map((k: {name: string}) => k.name)).toEqual([
      `spire-key-${ID}-x509-CA-A`,
      `spire-key-${ID}-x509-CA-B`,
      `spire-key-${ID}-JWT-Signer-A`,
      `spire-key-${ID}-JWT-Signer-B`,
    ])
    expect(plugin.labelFilter).toBe(`spire-server-td=${tdHash},spire-server-id=${ID},spire-active=true`)
    expect(plugin.staleAfterDays).toBe(14)
  })

  it('a missing file is exit 3', async () => {
    const dir = tmp()
    const r = await bothModes(['metadata', 'show', '--file', join(dir, 'nope')])
    expectError(r, 'NOT_FOUND', 3, /does not exist/)
  })

  it('a file the plugin would reject is exit 6; a bad trust domain is exit 2', async () => {
    const dir = tmp()
    const file = join(dir, 'meta')
    writeFileSync(file, `${ID}\n`, {mode: 0o600})
    expectError(await bothModes(['metadata', 'show', '--file', file]), 'TRAILING_NEWLINE', 6, /ends with a newline/)
    writeFileSync(file, ID, {mode: 0o600})
    expectError(await bothModes(['metadata', 'show', '--file', file, '--trust-domain', 'Example.org']), 'INVALID_TRUST_DOMAIN', 2, /upper-case/)
    expectError(await bothModes(['metadata', 'show', '--file', file, '--trust-domain', 'spiffe://example.org/ns/x']), 'INVALID_TRUST_DOMAIN', 2, /with a path/)
  })

  it('warns on stderr (not stdout) when the mode is too open, but still shows', async () => {
    const dir = tmp()
    const file = join(dir, 'meta')
    writeFileSync(file, ID, {mode: 0o644})
    chmodSync(file, 0o644)
    const r = await runCli(['metadata', 'show', '--file', file])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/Warning: .*mode 0644/)
    expect(r.stdout).toContain(ID)
  })
})

describe('metadata check', () => {
  async function check(content: string | null, mode = 0o600, setup?: (file: string) => void) {
    const dir = tmp()
    const file = join(dir, 'meta')
    if (content !== null) {
      writeFileSync(file, content, {mode})
      chmodSync(file, mode)
    }
    setup?.(file)
    return {file, r: await bothModes(['metadata', 'check', '--file', file])}
  }

  it('exit 0 when the plugin would load the file', async () => {
    const {r} = await check(ID)
    expect(r.human.code).toBe(0)
    expect(r.human.stdout).toContain(`holds server ID ${ID}`)
    expect(json(r.machine)).toMatchObject({ok: true, serverId: ID, problems: []})
  })

  it.each([
    ['missing', null, 0o600, 'MISSING', /does not exist/],
    ['empty', '', 0o600, 'EMPTY', /is empty/],
    ['trailing newline', `${ID}\n`, 0o600, 'TRAILING_NEWLINE', /ends with a newline/],
    ['trailing CRLF', `${ID}\r\n`, 0o600, 'TRAILING_NEWLINE', /ends with a newline/],
    ['whitespace', `  ${ID} `, 0o600, 'WHITESPACE', /whitespace around the server ID/],
    ['not a UUID', 'server-1', 0o600, 'NOT_A_UUID', /does not hold a UUID/],
    ['a UUID without dashes', ID.replaceAll('-', ''), 0o600, 'NOT_A_UUID', /does not hold a UUID/],
    ['readable by others', ID, 0o604, 'PERMISSIVE_MODE', /mode 0604, which gives others access/],
    ['readable by group', ID, 0o640, 'PERMISSIVE_MODE', /mode 0640, which gives group access/],
  ] as const)('%s: exit 6 naming the problem and its fix', async (_name, content, mode, code, message) => {
    const {r} = await check(content, mode)
    expectError(r, code, 6, message)
    const body = json(r.machine)
    expect(body.error.details.problems[0].code).toBe(code)
    expect(body.error.suggestions[0].length).toBeGreaterThan(5)
    expect(r.human.stderr).toMatch(/hint: /)
  })

  it('lists every problem under --json', async () => {
    const {r} = await check(`${ID}\n`, 0o644)
    expect(json(r.machine).error.details.problems.map((p: {code: string}) => p.code)).toEqual(['TRAILING_NEWLINE', 'PERMISSIVE_MODE'])
  })

  it('a directory is NOT_REGULAR_FILE', async () => {
    const dir = tmp()
    expectError(await bothModes(['metadata', 'check', '--file', dir]), 'NOT_REGULAR_FILE', 6, /is a directory/)
  })

  it('an unreadable file is UNREADABLE (exit 6)', async () => {
    const dir = tmp()
    const file = join(dir, 'meta')
    writeFileSync(file, ID, {mode: 0o600})
    chmodSync(dir, 0o711)
    // root reads any file, so as root run the check as "nobody"; otherwise drop the read bit.
    const asRoot = process.getuid!() === 0
    if (!asRoot) chmodSync(file, 0o000)
    const args = ['metadata', 'check', '--file', file]
    const human = asRoot ? await runAs('nobody', args) : await runCli(args)
    const machine = asRoot ? await runAs('nobody', [...args, '--json']) : await runCli([...args, '--json'])
    expectError({human, machine}, 'UNREADABLE', 6, /cannot be read: permission denied/)
  })
})

async function runAs(user: string, args: string[]): Promise<CliResult> {
  const {spawn} = await import('node:child_process')
  const {BIN} = await import('../helpers/cli.js')
  return new Promise((resolve, reject) => {
    const child = spawn('runuser', ['-u', user, '--', process.execPath, BIN, ...args], {env: {PATH: process.env.PATH ?? '', HOME: '/nonexistent'}, cwd: '/'})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stdout, stderr}))
  })
}
