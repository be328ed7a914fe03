'use strict'
// Runs a few commands in-process through the bundle (compiling what they use), then writes the V8
// code cache next to the bundle. Used by scripts/build-bundle.mjs. argv: <key-metadata file>
const fs = require('node:fs')
const {loadBundle, CACHE} = require('../bin/bundle-loader.cjs')

process.env.TRUSTCTL_NO_CODE_CACHE = '1'
const {exports: bundle, script} = loadBundle()
const write = process.stdout.write.bind(process.stdout)
const runs = [['--help'], ['metadata', 'show', '--file', process.argv[2]], ['metadata', '--help'], ['config', 'show', '--json']]
;(async () => {
  process.stdout.write = () => true
  try {
    for (const argv of runs) await bundle.run(argv)
  } finally {
    process.stdout.write = write
  }
  const data = script.createCachedData()
  fs.writeFileSync(CACHE, data)
  write(`code cache: ${data.length} bytes -> ${CACHE}\n`)
})()
