/**
 * The logger: stderr only (stdout carries results), with every registered secret value replaced by
 * *** in every line, so a password given by any route never reaches a log or an error message.
 */

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'
const ORDER: Record<LogLevel, number> = {error: 0, warn: 1, info: 2, debug: 3}

export const REDACTED = '***'

const secrets = new Set<string>()

/** Registers a secret value; from now on it is masked in all logger output and error messages. */
export function registerSecret(value: string | undefined): void {
  if (!value) return
  secrets.add(value)
  const trimmed = value.trim()
  if (trimmed && trimmed !== value) secrets.add(trimmed)
}

/** A JSON-shaped value with every registered secret masked (returned as is when none is registered). */
export function redactJson<T>(value: T): T {
  if (secrets.size === 0 || value === undefined) return value
  // String leaves are masked one by one: masking the JSON text would miss secrets that JSON escapes
  // (quotes, backslashes) and could break the text for secrets that look like JSON syntax.
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v)
    if (Array.isArray(v)) return v.map(walk)
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k), walk(x)]))
    return v
  }
  // Through JSON first, so dates, buffers and toJSON() come out as they will be printed.
  return walk(JSON.parse(JSON.stringify(value))) as T
}

export function redact(text: string): string {
  let out = text
  // Longest first, so that a secret containing another secret is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length === 0) continue
    out = out.split(s).join(REDACTED)
  }
  return out
}

export interface Logger {
  level: LogLevel
  error(msg: string): void
  warn(msg: string): void
  info(msg: string): void
  debug(msg: string): void
}

export interface LoggerOptions {
  level?: LogLevel
  color?: boolean
  write?: (line: string) => void
}

export function levelFromEnv(env: NodeJS.ProcessEnv): LogLevel {
  const v = (env.TRUSTCTL_LOG_LEVEL ?? '').toLowerCase()
  if (v === 'error' || v === 'warn' || v === 'info' || v === 'debug') return v
  if (env.DEBUG) return 'debug'
  return 'warn'
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line))
  const color = opts.color ?? false
  const paint = (code: string, s: string) => (color ? `\u001B[${code}m${s}\u001B[39m` : s)
  const prefixes: Record<LogLevel, string> = {
    error: paint('31', 'Error:'),
    warn: paint('33', 'Warning:'),
    info: '',
    debug: paint('90', 'debug:'),
  }
  const logger: Logger = {
    level: opts.level ?? 'warn',
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
  }
  function emit(level: LogLevel, msg: string) {
    if (ORDER[level] > ORDER[logger.level]) return
    const p = prefixes[level]
    write(`${p ? p + ' ' : ''}${redact(msg)}\n`)
  }
  return logger
}
