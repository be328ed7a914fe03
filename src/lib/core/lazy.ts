/**
 * The only place that imports heavy modules (ESLint enforces it). Each loader imports its module on
 * first use, so a command that never talks HTTP never pays for got (about 130 ms on Node 20).
 */
export const loadGot = async () => (await import('got')).default
export const loadHpagent = async () => import('hpagent')
export const loadProxyFromEnv = async () => (await import('proxy-from-env')).getProxyForUrl
export const loadJose = async () => import('jose')
export const loadForge = async () => (await import('node-forge')).default
export const loadListr = async () => import('listr2')
export const loadPrompts = async () => import('@inquirer/prompts')
export const loadYaml = async () => import('js-yaml')
