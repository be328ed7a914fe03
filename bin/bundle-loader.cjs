'use strict'
// Loads dist/trustctl.cjs (trustctl and @oclif/core bundled into one file by scripts/build-bundle.mjs)
// with the V8 code cache made at build time, so most of it is not compiled again at every start.
// The module is registered in require.cache, so oclif's "explicit" command discovery, which
// require()s the same file, gets this very instance instead of compiling a second copy.
const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const Module = require('node:module')

const BUNDLE = path.join(__dirname, '..', 'dist', 'trustctl.cjs')
const CACHE = `${BUNDLE}.cache`

// Code compiled through vm.Script cannot use import() itself (and V8 drops the callback when the
// code cache is used), so the build rewrites the bundle's import() calls to this function, which
// runs in this ordinary module.
globalThis.__trustctlImport = (specifier) => import(specifier)

function loadBundle() {
  const cached = require.cache[BUNDLE]
  if (cached) return {exports: cached.exports, script: undefined}
  let source
  try {
    source = fs.readFileSync(BUNDLE, 'utf8')
  } catch (err) {
    if (err.code === 'ENOENT') {
      process.stderr.write(`Error: ${BUNDLE} is missing\n  hint: run "npm run build" first\n`)
      process.exit(1)
    }
    throw err
  }
  let cachedData
  if (!process.env.TRUSTCTL_NO_CODE_CACHE) {
    try {
      cachedData = fs.readFileSync(CACHE)
    } catch {
      cachedData = undefined // no cache: compile normally
    }
  }
  // A cache made by another Node.js/V8 version is rejected by V8 and the source is compiled as usual.
  const script = new vm.Script(Module.wrap(source), {
    filename: BUNDLE,
    cachedData,
  })
  const mod = new Module(BUNDLE, module)
  mod.filename = BUNDLE
  mod.paths = Module._nodeModulePaths(path.dirname(BUNDLE))
  require.cache[BUNDLE] = mod
  const localRequire = (id) => mod.require(id)
  localRequire.resolve = (request, options) => Module._resolveFilename(request, mod, false, options)
  localRequire.cache = require.cache
  localRequire.main = require.main
  script.runInThisContext().call(mod.exports, mod.exports, localRequire, mod, BUNDLE, path.dirname(BUNDLE))
  mod.loaded = true
  return {exports: mod.exports, script}
}

module.exports = {loadBundle, BUNDLE, CACHE}
