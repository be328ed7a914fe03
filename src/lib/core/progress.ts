import {loadListr} from './lazy.js'

/** Counts items as work finishes; `ok: false` counts a failure (shown, not fatal). */
export type Tick = (ok: boolean) => void

export interface ProgressOptions {
  /** Title of the task line, e.g. "Checking 2,000 Keylime agents". */
  title: string
  total: number
  /** Show progress (a terminal on stderr, not --json); otherwise the work runs silently. */
  enabled: boolean
  /** Word for failures in the progress line. */
  failedLabel?: string
  /** Colours (the command's --no-color / NO_COLOR decision for stderr). */
  color: boolean
}

/**
 * Runs `work` with a listr2 progress line on stderr (stdout stays for the result). listr2 is loaded
 * only when shown. A failure of `work` itself is rethrown unchanged, after the line says it failed,
 * so the command's own error handling (message, exit code) applies.
 */
export async function withProgress<T>(opts: ProgressOptions, work: (tick: Tick) => Promise<T>): Promise<T> {
  // A terminal without a size (columns 0) cannot be redrawn in place.
  if (!opts.enabled || !process.stderr.columns) return work(() => {})
  // listr2 reads NO_COLOR when it is loaded (here, first use): honour --no-color the same way.
  if (!opts.color) process.env.NO_COLOR ||= '1'
  const {Listr, ListrLogger, ProcessOutput} = await loadListr()
  let done = 0
  let failed = 0
  let outcome: {value: T} | {error: unknown} | undefined
  const line = () => `${done}/${opts.total}${failed ? `, ${failed} ${opts.failedLabel ?? 'failed'}` : ''}`
  // listr2 picks its renderer from stdout's TTY-ness; ours draws on stderr (the caller checked that
  // one), so stdout may be a file: present it as a TTY for the construction only.
  const stdoutWasTty = process.stdout.isTTY
  process.stdout.isTTY = true
  let list
  try {
    list = makeList()
  } finally {
    process.stdout.isTTY = stdoutWasTty
  }
  await list.run()
  if (!outcome) throw new Error('progress: the task did not run')
  if ('error' in outcome) throw outcome.error
  return outcome.value

  function makeList() {
    return new Listr(
    [
      {
        title: opts.title,
        task: async (_ctx, task) => {
          let shown = -1
          try {
            const value = await work((ok) => {
              done++
              if (!ok) failed++
              // Re-render on each whole percent, not on every item.
              const pct = Math.floor((done * 100) / Math.max(1, opts.total))
              if (pct !== shown) {
                shown = pct
                task.output = line()
              }
            })
            outcome = {value}
            task.title = `${opts.title}: ${line()}`
          } catch (error) {
            outcome = {error}
            task.title = `${opts.title}: stopped at ${line()}`
          }
        },
      },
    ],
    {renderer: 'default', rendererOptions: {logger: new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})}, exitOnError: false, registerSignalListeners: false},
  )
  }
}
