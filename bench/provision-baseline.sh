#!/usr/bin/env bash
# The plain tpm2-tools provisioning sequence, as an operator runs it by hand (specs/tpm.md §3: the
# TCG SRK, then the seed README's tpm2_create / tpm2_load / tpm2_evictcontrol, with flushes), plus
# the public-key export. Baseline for bench/tpm.js. Needs TPM2TOOLS_TCTI.
set -euo pipefail
SRK=0x81000001 KEY=0x81008006
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; cd "$work"
if ! tpm2_getcap handles-persistent | grep -qi "^- $SRK\$"; then
  head -c 256 /dev/zero | tpm2_createprimary -Q -C o -g sha256 -G rsa2048:null:aes128cfb \
    -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|decrypt' -u - -c srk.ctx
  tpm2_evictcontrol -Q -C o -c srk.ctx $SRK
  tpm2_flushcontext -t
fi
if ! tpm2_getcap handles-persistent | grep -qi "^- $KEY\$"; then
  tpm2_create -Q -G rsa2048:rsassa:null -g sha256 -u key.pub -r key.priv -C $SRK
  tpm2_load -Q -C $SRK -u key.pub -r key.priv -c key.ctx
  tpm2_evictcontrol -Q -C o -c key.ctx $KEY
  tpm2_flushcontext -t
fi
tpm2_readpublic -Q -c $KEY -o pub.pem -f pem
