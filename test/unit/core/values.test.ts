import {describe, expect, it} from 'vitest'

import {parseBoolean, parseDuration, parseInteger, parseUrl} from '../../../src/lib/core/values.js'

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['500ms', 500],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['45', 45_000],
    ['1.5s', 1500],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, '--x')).toBe(ms)
  })

  it.each(['', 'abc', '10x', '5 m', '-3s', '1h foo'])('rejects %j naming the input', (text) => {
    expect(() => parseDuration(text, 'TRUSTCTL_TIMEOUT')).toThrow(/TRUSTCTL_TIMEOUT: ".*" is not a duration/)
  })
})

describe('parseBoolean / parseInteger / parseUrl', () => {
  it('reads the usual spellings of booleans', () => {
    expect(['1', 'true', 'YES', 'on'].map((t) => parseBoolean(t, 'x'))).toEqual([true, true, true, true])
    expect(['0', 'false', 'No', 'off'].map((t) => parseBoolean(t, 'x'))).toEqual([false, false, false, false])
    expect(() => parseBoolean('maybe', '--insecure')).toThrow('--insecure: "maybe" is not a boolean')
  })

  it('reads integers and rejects the rest', () => {
    expect(parseInteger('42', 'x')).toBe(42)
    expect(() => parseInteger('4.2', '--n')).toThrow(/not an integer/)
    expect(() => parseInteger('99999999999999999999', '--n')).toThrow(/not an integer/)
  })

  it('accepts only http(s) URLs', () => {
    expect(parseUrl('https://ctm.example.com', 'x').host).toBe('ctm.example.com')
    expect(() => parseUrl('ctm.example.com', '--url')).toThrow(/is not a URL/)
    expect(() => parseUrl('ftp://x', '--url')).toThrow(/must be an http/)
  })
})
