import {Flags} from '@oclif/core'

import {KeylimeCommand} from '../../../keylime-command.js'
import {UsageError} from '../../../lib/core/errors.js'
import {fleetStatus, parseAgentsFile, verifierList} from '../../../lib/keylime/ops.js'

export default class KeylimeFleetStatus extends KeylimeCommand<typeof KeylimeFleetStatus> {
  static override summary = 'Check many Keylime agents: reported UUID, verifier state, registrar presence, duplicates'
  static override description = `Agents come from --agents FILE (host:port lines, or JSON) or --from-verifier (the addresses the
verifier knows). One request per agent (bounded by --concurrency), plus one verifier list and one
registrar list. Flags two endpoints reporting the same UUID (the spoofing case of the SPIRE plugin's
security notes) and UUIDs passing in the verifier with no reachable agent. Progress goes to stderr on
a terminal; --json prints the summary and every agent.`

  static override examples = ['<%= config.bin %> <%= command.id %> --agents agents.txt --json | jq .summary', '<%= config.bin %> <%= command.id %> --from-verifier --concurrency 64']

  static override flags = {
    agents: Flags.string({summary: 'file of agents: host:port lines or JSON', exactlyOne: ['agents', 'from-verifier']}),
    'from-verifier': Flags.boolean({summary: 'check the agents the verifier knows, at their registered addresses', exactlyOne: ['agents', 'from-verifier']}),
    concurrency: Flags.integer({summary: 'agents queried at once (default 32)', min: 1, max: 1024}),
  }

  async run() {
    const client = await this.keylime()
    let endpoints
    if (this.flags.agents) {
      const {readFile} = await import('node:fs/promises')
      const {fileErrorFrom} = await import('../../../lib/core/errors.js')
      let text: string
      try {
        text = await readFile(this.flags.agents, 'utf8')
      } catch (err) {
        throw fileErrorFrom(err, this.flags.agents, 'read')
      }
      endpoints = parseAgentsFile(text, this.flags.agents)
    } else {
      endpoints = (await verifierList(client)).filter((a) => a.ip && a.port).map((a) => ({host: a.ip as string, port: a.port as number}))
    }
    if (endpoints.length === 0) throw new UsageError('INVALID_VALUE', 'no agents to check')
    const tty = Boolean(process.stderr.isTTY) && !this.jsonEnabled()
    const result = await fleetStatus(client, endpoints, {
      concurrency: this.flags.concurrency ?? 32,
      onProgress: tty ? (d, t) => process.stderr.write(`\r${d}/${t} agents checked`) : undefined,
    })
    if (tty) process.stderr.write('\n')
    const s = result.summary
    this.print(
      [
        `agents ${s.agents}: reachable ${s.reachable}, unreachable ${s.unreachable}; passing ${s.passing}, not passing ${s.notPassing}, not in verifier ${s.notInVerifier}, not registered ${s.notRegistered}`,
        ...s.duplicateUuids.map((d) => `DUPLICATE UUID ${d.uuid} reported by ${d.endpoints.join(', ')}`),
        ...s.passingWithoutReachableAgent.map((u) => `passing in the verifier but no reachable agent: ${u}`),
      ].join('\n'),
    )
    return result
  }
}
