/**
 * Every setting trustctl resolves from flag > environment > .env > profile > default, in one list,
 * so that `trustctl config show`, the flags of each command and the profile file's keys cannot
 * drift apart. The key is the profile key and the `config show` flag; commands may expose a
 * setting under a shorter flag name (e.g. `metadata-file` as `--file`).
 */

export type SettingKind = 'string' | 'path' | 'boolean' | 'duration' | 'integer' | 'url'

export interface SettingDef {
  key: string
  kind: SettingKind
  /** Environment variables, first match wins. TRUSTCTL_* first, then the system's own (TPM2TOOLS_TCTI). */
  env: string[]
  default?: string
  description: string
  /** A secret: never printed, logged or put in JSON; passing it as a flag warns. */
  secret?: boolean
  /** For secrets: the companion setting naming a file that holds the secret. */
  fileSetting?: string
}

export const SETTINGS: readonly SettingDef[] = [
  // TPM (tpm2-tools)
  {
    key: 'tcti',
    kind: 'string',
    env: ['TPM2TOOLS_TCTI', 'TRUSTCTL_TCTI'],
    default: 'device:/dev/tpmrm0',
    description: 'TCTI that tpm2-tools use to reach the TPM, e.g. device:/dev/tpmrm0 or swtpm:path=/run/swtpm.sock',
  },
  {
    key: 'tpm-timeout',
    kind: 'duration',
    env: ['TRUSTCTL_TPM_TIMEOUT'],
    default: '30s',
    description: 'timeout of each tpm2-tools call (a hung TPM never hangs trustctl)',
  },
  {
    key: 'tpm-handle',
    kind: 'string',
    env: ['TRUSTCTL_TPM_HANDLE'],
    default: '0x81008006',
    description: 'persistent handle of the TPM signing key',
  },
  {
    key: 'srk-handle',
    kind: 'string',
    env: ['TRUSTCTL_SRK_HANDLE'],
    default: '0x81000001',
    description: 'persistent handle of the TPM storage key (SRK), the signing key\'s parent',
  },
  {
    key: 'owner-auth',
    kind: 'string',
    env: ['TRUSTCTL_OWNER_AUTH'],
    secret: true,
    fileSetting: 'owner-auth-file',
    description: 'TPM owner hierarchy password (only when one is set on the TPM)',
  },
  {
    key: 'owner-auth-file',
    kind: 'path',
    env: ['TRUSTCTL_OWNER_AUTH_FILE'],
    description: 'file holding the TPM owner hierarchy password',
  },
  {
    key: 'tpm-transport',
    kind: 'string',
    env: ['TRUSTCTL_TPM_TRANSPORT'],
    default: 'auto',
    description: 'auto: send simple TPM commands directly over swtpm sockets and /dev/tpmrm0, tpm2-tools for the rest; tools: tpm2-tools for everything',
  },
  // key-metadata file of SPIRE's KMS KeyManager plugins
  {
    key: 'metadata-file',
    kind: 'path',
    env: ['TRUSTCTL_METADATA_FILE'],
    description: "path of the KeyManager plugin's key_metadata_file (holds the server ID)",
  },
  {
    key: 'trust-domain',
    kind: 'string',
    env: ['TRUSTCTL_TRUST_DOMAIN'],
    description: 'SPIFFE trust domain name, e.g. example.org',
  },
  // HTTP (every remote API)
  {
    key: 'ca-file',
    kind: 'path',
    env: ['TRUSTCTL_CA_FILE'],
    description: 'PEM file of the CA certificates trusted for HTTPS servers (used instead of the system roots)',
  },
  {
    key: 'insecure',
    kind: 'boolean',
    env: ['TRUSTCTL_INSECURE'],
    default: 'false',
    description: 'skip TLS certificate verification (warns; prefer --ca-file)',
  },
  {
    key: 'timeout',
    kind: 'duration',
    env: ['TRUSTCTL_TIMEOUT'],
    default: '30s',
    description: 'timeout of each HTTP request',
  },
  // Keylime (the SPIRE Keylime plugin's config words)
  {key: 'keylime-agent-host', kind: 'string', env: ['TRUSTCTL_KEYLIME_AGENT_HOST'], default: '127.0.0.1', description: 'Keylime agent host'},
  {key: 'keylime-agent-port', kind: 'integer', env: ['TRUSTCTL_KEYLIME_AGENT_PORT'], default: '9002', description: 'Keylime agent port'},
  {key: 'keylime-verifier-host', kind: 'string', env: ['TRUSTCTL_KEYLIME_VERIFIER_HOST'], default: '127.0.0.1', description: 'Keylime verifier host'},
  {key: 'keylime-verifier-port', kind: 'integer', env: ['TRUSTCTL_KEYLIME_VERIFIER_PORT'], default: '8881', description: 'Keylime verifier port'},
  {key: 'keylime-registrar-host', kind: 'string', env: ['TRUSTCTL_KEYLIME_REGISTRAR_HOST'], default: '127.0.0.1', description: 'Keylime registrar host'},
  {key: 'keylime-registrar-port', kind: 'integer', env: ['TRUSTCTL_KEYLIME_REGISTRAR_PORT'], default: '8891', description: 'Keylime registrar port'},
  {key: 'keylime-cert', kind: 'path', env: ['TRUSTCTL_KEYLIME_CERT'], description: "TLS client certificate for the Keylime verifier and registrar (e.g. /var/lib/keylime/cv_ca/client-cert.crt)"},
  {key: 'keylime-key', kind: 'path', env: ['TRUSTCTL_KEYLIME_KEY'], description: 'its private key (e.g. /var/lib/keylime/cv_ca/client-private.pem)'},
  {key: 'keylime-agent-mtls', kind: 'boolean', env: ['TRUSTCTL_KEYLIME_AGENT_MTLS'], default: 'false', description: 'agents serve HTTPS with mTLS (off in the SPIRE plugin mode)'},
  {key: 'keylime-api-version', kind: 'string', env: ['TRUSTCTL_KEYLIME_API_VERSION'], description: 'force a Keylime API version instead of negotiating, e.g. 2.2'},
  // CipherTrust Manager
  {
    key: 'ctm-url',
    kind: 'url',
    env: ['TRUSTCTL_CTM_URL'],
    description: 'CipherTrust Manager base URL, e.g. https://ctm.example.com',
  },
  {
    key: 'ctm-username',
    kind: 'string',
    env: ['TRUSTCTL_CTM_USERNAME'],
    description: 'CipherTrust Manager user name',
  },
  {
    key: 'ctm-password',
    kind: 'string',
    env: ['TRUSTCTL_CTM_PASSWORD'],
    secret: true,
    fileSetting: 'ctm-password-file',
    description: 'CipherTrust Manager password (prefer the -file form or the environment)',
  },
  {
    key: 'ctm-domain',
    kind: 'string',
    env: ['TRUSTCTL_CTM_DOMAIN'],
    description: 'CipherTrust Manager domain to act in (default root)',
  },
  {
    key: 'ctm-auth-domain',
    kind: 'string',
    env: ['TRUSTCTL_CTM_AUTH_DOMAIN'],
    description: 'CipherTrust Manager domain the user belongs to (default root; the tenant on CDSPaaS)',
  },
  {
    key: 'ctm-refresh-token',
    kind: 'string',
    env: ['TRUSTCTL_CTM_REFRESH_TOKEN'],
    secret: true,
    description: 'CipherTrust Manager refresh token (stored in the profile by "trustctl ctm login")',
  },
  {
    key: 'ksctl-config',
    kind: 'path',
    env: ['TRUSTCTL_KSCTL_CONFIG'],
    default: '~/.ksctl/config.yaml',
    description: "ksctl's config file (KSCTL_URL, KSCTL_USERNAME, KSCTL_PASSWORD, KSCTL_NOSSLVERIFY, KSCTL_TIMEOUT), read last",
  },
  {
    key: 'ctm-password-file',
    kind: 'path',
    env: ['TRUSTCTL_CTM_PASSWORD_FILE'],
    description: 'file holding the CipherTrust Manager password',
  },
]

const BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]))

export function settingDef(key: string): SettingDef {
  const def = BY_KEY.get(key)
  if (!def) throw new Error(`unknown setting ${key}`)
  return def
}

export function isSettingKey(key: string): boolean {
  return BY_KEY.has(key)
}
