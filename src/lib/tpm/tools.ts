import {isTrustctlError} from '../core/errors.js'
import type {Logger} from '../core/log.js'
import {runProcess} from '../core/subprocess.js'
import {decodeToolFailure, TpmError} from './errors.js'

export interface ToolContext {
  tcti: string
  timeoutMs: number
  logger?: Logger
  cwd?: string
  /** Used in AUTH_FAILED suggestions. */
  ownerAuthFlag?: string
}

export interface ToolCall {
  tool: string
  args: string[]
  input?: Uint8Array | string
  /** The handle the call is about, for error messages. */
  handle?: string
}

/** The command line a call runs, for --dry-run and debug logs. */
export function renderCall(call: ToolCall, tcti: string): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)
  return `TPM2TOOLS_TCTI=${quote(tcti)} ${[call.tool, ...call.args].map(quote).join(' ')}${call.input !== undefined ? ' < (stdin)' : ''}`
}

/**
 * Runs one tpm2-tools program with the TCTI set, a hard timeout (a hung TPM makes the tools block
 * forever) and failures decoded into named TpmErrors. The caller holds the TPM lock.
 */
export async function runTool(ctx: ToolContext, call: ToolCall): Promise<string> {
  ctx.logger?.debug(renderCall(call, ctx.tcti))
  let result
  try {
    result = await runProcess(call.tool, call.args, {
      timeoutMs: ctx.timeoutMs,
      killGraceMs: 500,
      input: call.input,
      cwd: ctx.cwd,
      env: {...process.env, TPM2TOOLS_TCTI: ctx.tcti, TSS2_LOG: process.env.TSS2_LOG ?? 'all+none'},
      installHint: 'apt-get install tpm2-tools',
    })
  } catch (err) {
    if (isTrustctlError(err) && err.code === 'TOOL_TIMEOUT') {
      throw new TpmError('TPM_TIMEOUT', `the TPM did not answer ${call.tool} within ${ctx.timeoutMs} ms (TCTI ${ctx.tcti}); the tool was killed`, {
        suggestions: ['is the TPM (or swtpm) hung or stopped? raise --tpm-timeout if it is only slow'],
        details: {tool: call.tool, tcti: ctx.tcti, timeoutMs: ctx.timeoutMs},
      })
    }
    if (isTrustctlError(err) && err.code === 'TOOL_MISSING') {
      throw new TpmError('TOOL_MISSING', `${call.tool} is not installed (tpm2-tools)`, {suggestions: ['apt-get install tpm2-tools'], details: {tool: call.tool}})
    }
    throw err
  }
  if (result.exitCode !== 0) {
    throw decodeToolFailure(result.stderr, result.exitCode, {tool: call.tool, tcti: ctx.tcti, handle: call.handle, ownerAuthFlag: ctx.ownerAuthFlag})
  }
  return result.stdout.toString('utf8')
}
