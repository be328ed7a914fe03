// Shared by the emulators' command lines (node test/emulators/<name>/server.js): run main() only when
// the file is the program itself, and stop cleanly on SIGINT/SIGTERM.
import {realpathSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

/** Runs main() when moduleUrl is the script node was started with; a failure prints and exits 1. */
export function runIfMain(moduleUrl, main) {
  if (!process.argv[1] || realpathSync(process.argv[1]) !== fileURLToPath(moduleUrl)) return
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}

/** Calls stop() on the first SIGINT or SIGTERM, then exits 0. */
export function stopOnSignals(stop) {
  const shutdown = () => stop().then(() => process.exit(0))
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}
