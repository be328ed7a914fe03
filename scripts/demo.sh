#!/usr/bin/env bash
# The README's main-job command: installs what trustctl needs, builds it, then runs its main job on
# an embedded default: a throwaway software TPM (swtpm on a unix socket in a temporary directory),
# provisioned by trustctl; the public key is exported, a message is signed by the TPM and verified
# with the exported key (by openssl, independently of trustctl). Everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f dist/trustctl.cjs ] || npm run build
trustctl() { node "$PWD/bin/run.js" "$@"; }

work=$(mktemp -d /tmp/trustctl-demo-XXXXXX)
swtpm_pid=""
cleanup() {
  [ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null && wait "$swtpm_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export HOME="$work" # a throwaway config location: the demo never touches your own profile

echo "== a throwaway software TPM in $work"
swtpm socket --tpm2 --tpmstate dir="$work" --server type=unixio,path="$work/sock" --ctrl type=unixio,path="$work/sock.ctrl" \
  --flags not-need-init,startup-clear --log file="$work/swtpm.log" --pid file="$work/swtpm.pid" &
swtpm_pid=$!
for _ in $(seq 1 500); do [ -s "$work/swtpm.pid" ] && break; sleep 0.01; done
export TPM2TOOLS_TCTI="swtpm:path=$work/sock"

echo "== trustctl doctor"
trustctl doctor
echo "== trustctl tpm provision --dry-run"
trustctl tpm provision --dry-run
echo "== trustctl tpm provision"
trustctl tpm provision
echo "== trustctl tpm provision (again: idempotent)"
trustctl tpm provision
echo "== trustctl tpm status"
trustctl tpm status
echo "== trustctl tpm pubkey --out keys/main.pem"
trustctl tpm pubkey --out "$work/keys/main.pem"
echo "== trustctl tpm sign, then verify the signature with openssl and the exported key"
printf 'a SPIFFE trust bundle would go here\n' > "$work/message.txt"
trustctl tpm sign --in "$work/message.txt" --format raw > "$work/message.sig"
openssl dgst -sha256 -verify "$work/keys/main.pem" -signature "$work/message.sig" "$work/message.txt"

echo "== a sample trust bundle (a CA certificate for spiffe://example.org), signed by the TPM"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca.key" -out "$work/bundle.pem" \
  -days 1 -subj "/C=US/O=SPIFFE" -addext "subjectAltName=URI:spiffe://example.org" 2>/dev/null
trustctl bundle sign --bundle "$work/bundle.pem" --issuer demo-server --ttl 10m --out "$work/spiffetrustbundle.token"
echo "== trustctl bundle inspect (decoded only, not verified)"
trustctl bundle inspect --token "$work/spiffetrustbundle.token"
echo "== trustctl bundle verify with the exported public key, through a verifier config in the reference's format"
cat > "$work/verifier.conf" <<CONF
keydir: keys
keyset:
  main:
    url: file://$work/spiffetrustbundle.token
    chain:
    - main.pem
CONF
trustctl bundle verify --config "$work/verifier.conf" --keyset main --out "$work/verified-bundle.pem"
cmp "$work/bundle.pem" "$work/verified-bundle.pem" && echo "verified bundle == signed bundle"

echo "== the key-metadata file of SPIRE's KMS KeyManager plugins"
meta="$work/spire/ctmkms/ctmkms-key-metadata"
trustctl metadata init --file "$meta"
trustctl metadata show --file "$meta" --trust-domain example.org
trustctl metadata check --file "$meta"
echo "demo ok"
