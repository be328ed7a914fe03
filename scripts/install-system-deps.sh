#!/usr/bin/env bash
# Installs the Debian packages trustctl's demo and tests use: tpm2-tools (the TPM commands),
# swtpm + libtss2-tcti-swtpm0 (a software TPM), python3-jwt (an independent JWT implementation
# for interoperability tests), bsdutils (`script`: a pseudo-terminal for the TTY tests). Needs root (or sudo). Skips apt-get when everything is present.
set -euo pipefail
PKGS=(tpm2-tools swtpm swtpm-tools libtss2-tcti-swtpm0 python3-jwt python3-cryptography openssl bsdutils)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages present: ${PKGS[*]}"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
