import {describe, expect, it} from 'vitest'

import {errorBody} from '../../../src/base-command.js'
import {FileError, NetworkError, ProcessError, UsageError, fileErrorFrom} from '../../../src/lib/core/errors.js'
import {registerSecret} from '../../../src/lib/core/log.js'
import {MetadataError} from '../../../src/lib/metadata/errors.js'
import {DoctorError} from '../../../src/lib/doctor/checks.js'

describe('error envelope and exit codes', () => {
  it.each([
    [new UsageError('MISSING_FLAG', 'missing --file'), 'MISSING_FLAG', 2],
    [new UsageError('PROFILE_NOT_FOUND', 'no profile'), 'PROFILE_NOT_FOUND', 3],
    [new UsageError('SECRET_UNREADABLE', 'cannot read'), 'SECRET_UNREADABLE', 4],
    [new FileError('FILE_NOT_FOUND', 'x'), 'FILE_NOT_FOUND', 3],
    [new FileError('FILE_PERMISSION', 'x'), 'FILE_PERMISSION', 4],
    [new FileError('FILE_EXISTS', 'x'), 'FILE_EXISTS', 8],
    [new ProcessError('TOOL_MISSING', 'x'), 'TOOL_MISSING', 5],
    [new NetworkError('UNREACHABLE', 'x'), 'UNREACHABLE', 7],
    [new NetworkError('TLS_UNTRUSTED', 'x'), 'TLS_UNTRUSTED', 7],
    [new MetadataError('NOT_FOUND', 'x'), 'NOT_FOUND', 3],
    [new MetadataError('NOT_A_UUID', 'x'), 'NOT_A_UUID', 6],
    [new MetadataError('EXISTS', 'x'), 'EXISTS', 8],
    [new DoctorError('TPM2_TOOLS_MISSING', 'x'), 'TPM2_TOOLS_MISSING', 5],
  ] as const)('%s maps to %s / exit %d', (err, code, exitCode) => {
    const body = errorBody(err)
    expect(body.error).toMatchObject({code, exitCode, message: err.message})
    expect(Array.isArray(body.error.suggestions)).toBe(true)
  })

  it('oclif parse errors are USAGE with exit 2 and one line', () => {
    const err = Object.assign(new Error('The following error occurred:\n  Missing required flag file\nSee more help with --help'), {oclif: {exit: 2}})
    expect(errorBody(err).error).toEqual({code: 'USAGE', message: 'Missing required flag file', exitCode: 2, suggestions: ['see --help for the flags and examples']})
  })

  it('unexpected errors are INTERNAL, exit 1, first line only', () => {
    expect(errorBody(new TypeError('boom\nmore')).error).toMatchObject({code: 'INTERNAL', exitCode: 1, message: 'internal error: boom'})
  })

  it('redacts secrets in messages, suggestions and details', () => {
    registerSecret('pa55word!')
    const body = errorBody(new UsageError('INVALID_VALUE', 'bad pa55word!', {suggestions: ['not pa55word!'], details: {v: 'pa55word!'}}))
    expect(JSON.stringify(body)).not.toContain('pa55word!')
  })

  it('fs errors become one-line FileErrors naming the path', () => {
    const enoent = Object.assign(new Error('ENOENT: no such file'), {code: 'ENOENT'})
    expect(fileErrorFrom(enoent, '/x/y', 'read')).toMatchObject({code: 'FILE_NOT_FOUND', message: 'cannot read /x/y: no such file or directory'})
    const eacces = Object.assign(new Error('EACCES'), {code: 'EACCES'})
    expect(fileErrorFrom(eacces, '/x/y', 'write')).toMatchObject({code: 'FILE_PERMISSION', exitCode: 4})
  })
})
