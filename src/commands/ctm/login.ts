import {CtmCommand} from '../../ctm-command.js'

export default class CtmLogin extends CtmCommand<typeof CtmLogin> {
  static override summary = 'Log in once and keep a refresh token in the active profile, so later commands need no password'
  static override description = `Logs in with the password (from --password-file, TRUSTCTL_CTM_PASSWORD, ksctl's config or a prompt),
then stores ctm-url, ctm-username and the refresh token in the active profile of
~/.config/trustctl/config.yaml (rewritten atomically, mode 0600). Later ctm commands log in with the
refresh token. The refresh token is never printed.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --url https://ctm.example.com --username admin --password-file admin.pw --ca-file ctm-ca.pem',
    '<%= config.bin %> <%= command.id %> --profile prod',
  ]

  async run() {
    const {ctmConnection} = await import('../../lib/ciphertrust/connection.js')
    const {CtmClient} = await import('../../lib/ciphertrust/client.js')
    const {saveProfileSettings} = await import('../../lib/core/profile-writer.js')
    // A fresh password login (even when a refresh token is stored): the point is a new refresh token.
    const conn = await ctmConnection(this.settings, this.logger, () => this.promptSecret('CipherTrust Manager password', '--password-file'), {passwordLogin: true})
    const client = await CtmClient.connect(conn)
    const token = await client.login({labels: ['trustctl']})
    if (!token.refresh_token) {
      const {CtmError} = await import('../../lib/ciphertrust/errors.js')
      throw new CtmError('INVALID_RESPONSE', 'CipherTrust Manager issued no refresh token')
    }
    const saved = await saveProfileSettings(this.configCtx, {
      'ctm-url': conn.url,
      ...(conn.username ? {'ctm-username': conn.username} : {}),
      'ctm-refresh-token': token.refresh_token,
    })
    this.note(`logged in to ${conn.url} as ${conn.username}; refresh token stored in profile "${saved.profile}" of ${saved.path} (mode 0600)`)
    return {url: conn.url, username: conn.username ?? null, profile: saved.profile, configFile: saved.path, refreshTokenId: token.refresh_token_id ?? null}
  }
}
