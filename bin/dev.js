#!/usr/bin/env -S node --import tsx --disable-warning=ExperimentalWarning
'use strict'
// Runs the TypeScript sources directly (no build, no bundle): oclif finds the commands in
// src/commands through tsx. bin/ is CommonJS, so the package root is passed explicitly.
const path = require('node:path')

;(async () => {
  const {execute} = await import('@oclif/core')
  const root = path.join(__dirname, '..')
  const pjson = require('../package.json')
  pjson.oclif.commands = './dist/commands' // mapped to ./src/commands by oclif's TypeScript support
  await execute({args: process.argv.slice(2), development: true, loadOptions: {root, pjson}})
})()
