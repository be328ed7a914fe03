#!/usr/bin/env node
'use strict'
const argv = process.argv.slice(2)

// `trustctl --version` needs no framework: answer in oclif's format without loading it.
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  const pjson = require('../package.json')
  process.stdout.write(`${pjson.name}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  require('./bundle-loader.cjs').loadBundle().exports.run(argv)
}
