import {describe, expect, it} from 'vitest'

import {createLogger, redact, redactJson, registerSecret} from '../../../src/lib/core/log.js'

describe('logger', () => {
  it('masks registered secrets in every line, longest first', () => {
    registerSecret('hunter2')
    registerSecret('hunter2-and-more')
    const lines: string[] = []
    const log = createLogger({level: 'debug', write: (l) => lines.push(l)})
    log.debug('password is hunter2-and-more, again hunter2')
    expect(lines.join('')).toBe('debug: password is ***, again ***\n')
    expect(redact('x hunter2 y')).toBe('x *** y')
  })

  it('masks secrets in JSON results, also ones JSON escapes or that look like JSON', () => {
    registerSecret('pa"ss\\word')
    registerSecret('1234567')
    registerSecret('":')
    const out = redactJson({a: 'x pa"ss\\word y', n: 1234567, list: ['1234567', {k: 'a":b'}], when: new Date(0)})
    expect(out).toEqual({a: 'x *** y', n: 1234567, list: ['***', {k: 'a***b'}], when: '1970-01-01T00:00:00.000Z'})
    expect(JSON.stringify(out)).not.toContain('ss\\\\word')
  })

  it('respects the level', () => {
    const lines: string[] = []
    const log = createLogger({level: 'warn', write: (l) => lines.push(l)})
    log.info('not shown')
    log.debug('not shown')
    log.warn('shown')
    expect(lines).toEqual(['Warning: shown\n'])
  })
})
