import {describe, expect, it} from 'vitest'

import {createLogger, redact, registerSecret} from '../../../src/lib/core/log.js'

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

  it('respects the level', () => {
    const lines: string[] = []
    const log = createLogger({level: 'warn', write: (l) => lines.push(l)})
    log.info('not shown')
    log.debug('not shown')
    log.warn('shown')
    expect(lines).toEqual(['Warning: shown\n'])
  })
})
