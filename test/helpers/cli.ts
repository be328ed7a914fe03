import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  cwd?: string
  env?: Record<string, string | undefined>
  input?: string
  /** Start from an empty environment plus PATH and HOME, instead of inheriting the test's. */
  cleanEnv?: boolean
  timeoutMs?: number
}

/** The child's environment: the test's (or only PATH and HOME), never CI, plus opts.env (undefined removes). */
function childEnv(opts: CliOptions, extra: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string | undefined> = opts.cleanEnv ? {PATH: process.env.PATH, HOME: opts.env?.HOME ?? process.env.HOME} : {...process.env}
  delete base.CI
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries({...base, ...extra, ...opts.env})) if (v !== undefined) env[k] = v
  return env
}

/** Collects a child's output until it closes; SIGKILL after timeoutMs. */
function collect(child: ChildProcessWithoutNullStreams, timeoutMs = 30_000, onStdout?: (all: string) => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      onStdout?.(stdout)
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
  })
}

/** Runs the built CLI (bin/run.js over dist/) as a user would, and collects its output. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  if (!existsSync(join(ROOT, 'dist', 'commands'))) throw new Error('dist/ is missing: run "npm run build" before the e2e tests')
  const child = spawn(process.execPath, [BIN, ...args], {cwd: opts.cwd ?? ROOT, env: childEnv(opts), stdio: ['pipe', 'pipe', 'pipe']})
  child.stdin.end(opts.input ?? '')
  return collect(child, opts.timeoutMs)
}

/** Parses stdout as JSON, failing the test with the raw output when it is not. */
export function json<T = any>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`)
  }
}

export interface TerminalAnswer {
  /** Typed once the terminal output (so far) matches this. */
  when: RegExp
  /** What the user types, e.g. "secret\r" (Enter is \r on a terminal). */
  send: string
}

/**
 * Runs the built CLI on a pseudo-terminal (util-linux `script`, 100x40), as an operator at a
 * terminal would. stdout and stderr arrive merged, with the terminal's control sequences.
 */
export function runCliInTerminal(args: string[], opts: Omit<CliOptions, 'input' | 'cleanEnv'> & {answers?: TerminalAnswer[]} = {}): Promise<CliResult> {
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`
  const command = `stty cols 100 rows 40; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`
  const child = spawn('script', ['-qec', command, '/dev/null'], {cwd: opts.cwd ?? ROOT, env: childEnv(opts, {TERM: 'xterm-256color'}), stdio: ['pipe', 'pipe', 'pipe']})
  child.on('exit', () => child.stdin.end())
  // script passes its stdin to the terminal: each answer is typed once its prompt has appeared.
  const answers = [...(opts.answers ?? [])]
  return collect(child, opts.timeoutMs, (all) => {
    while (answers[0] && answers[0].when.test(all)) child.stdin.write(answers.shift()!.send)
  })
}
