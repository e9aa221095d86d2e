#!/bin/sh
# Test action: reports the gateway outputs a real deployer would, for the tool listening at $ENCLAVE_PARAM_UPSTREAM.
set -eu
printf '{"gateway_upstream": "%s", "gateway_credential": {"header": "Authorization", "value": "token engine-secret"}, "tool": "test"}' \
  "$ENCLAVE_PARAM_UPSTREAM" > "$ENCLAVE_OUTPUTS"
