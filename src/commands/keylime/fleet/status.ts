import {readFile} from 'node:fs/promises'

import {Flags} from '@oclif/core'

import {KeylimeCommand} from '../../../keylime-command.js'
import {fileErrorFrom, UsageError} from '../../../lib/core/errors.js'
import {withProgress} from '../../../lib/core/progress.js'
import {fleetStatus, parseAgentsFile, verifierList, type VerifierStatus} from '../../../lib/keylime/ops.js'

export default class KeylimeFleetStatus extends KeylimeCommand<typeof KeylimeFleetStatus> {
  static override summary = 'Check many Keylime agents: reported UUID, verifier state, registrar presence, duplicates'
  static override description = `Agents come from --agents FILE (host:port lines, or JSON) or --from-verifier (the addresses the
verifier knows). Each agent is asked for its API versions and its info (--concurrency agents at a
time); the verifier and registrar lists are fetched once, while the agents are scanned. Flags two
endpoints reporting the same UUID (the spoofing case of the SPIRE plugin's security notes) and UUIDs
passing in the verifier with no reachable agent. A progress line goes to stderr on a terminal;
--json prints the summary and every agent. Unreachable agents are reported, not fatal (exit 0); an
unreachable verifier is exit 7.`

  static override examples = ['<%= config.bin %> <%= command.id %> --agents agents.txt --json | jq .summary', '<%= config.bin %> <%= command.id %> --from-verifier --concurrency 64']

  static override flags = {
    agents: Flags.string({summary: 'file of agents: host:port lines or JSON', exactlyOne: ['agents', 'from-verifier']}),
    'from-verifier': Flags.boolean({summary: 'check the agents the verifier knows, at their registered addresses', exactlyOne: ['agents', 'from-verifier']}),
    concurrency: Flags.integer({summary: 'agents queried at once (default 32)', min: 1, max: 1024}),
  }

  async run() {
    const client = await this.keylime()
    let endpoints
    let verifierStates: VerifierStatus[] | undefined
    if (this.flags.agents) {
      let text: string
      try {
        text = await readFile(this.flags.agents, 'utf8')
      } catch (err) {
        throw fileErrorFrom(err, this.flags.agents, 'read')
      }
      endpoints = parseAgentsFile(text, this.flags.agents)
    } else {
      verifierStates = await verifierList(client)
      endpoints = verifierStates.filter((a) => a.ip && a.port).map((a) => ({host: a.ip as string, port: a.port as number}))
    }
    if (endpoints.length === 0) throw new UsageError('INVALID_VALUE', 'no agents to check')
    const progress = {title: `Checking ${endpoints.length} Keylime agent${endpoints.length === 1 ? '' : 's'}`, total: endpoints.length, enabled: Boolean(process.stderr.isTTY) && !this.jsonEnabled(), failedLabel: 'unreachable', color: this.colorEnabled(process.stderr)}
    const result = await withProgress(progress, (tick) => fleetStatus(client, endpoints, {concurrency: this.flags.concurrency ?? 32, onAgent: tick, verifierStates}))
    const s = result.summary
    this.print(
      [
        `agents ${s.agents}: reachable ${s.reachable}, unreachable ${s.unreachable}, no UUID ${s.failed}; passing ${s.passing}, not passing ${s.notPassing}, not in verifier ${s.notInVerifier}, not registered ${s.notRegistered}`,
        ...result.agents.filter((a) => a.error).map((a) => `${a.reachable ? 'NO UUID' : 'UNREACHABLE'} ${a.host}:${a.port}: ${a.error}`),
        ...s.duplicateUuids.map((d) => `DUPLICATE UUID ${d.uuid} reported by ${d.endpoints.join(', ')}`),
        ...s.passingWithoutReachableAgent.map((u) => `passing in the verifier but no reachable agent: ${u}`),
        ...(s.registrarError ? [`registrar presence unknown: ${s.registrarError}`] : []),
      ].join('\n'),
    )
    return result
  }
}
