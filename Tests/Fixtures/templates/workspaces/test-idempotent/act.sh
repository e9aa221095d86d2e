#!/bin/sh
# Test action: logs start/end with the resource id to DATA/test-actions.log, sleeps, fails on request,
# and echoes parameters as outputs. The "attempt" file counts runs per resource and action.
set -eu
log="$ENCLAVE_DATA_DIR/test-actions.log"
now() { date +%s.%N; }
echo "start $ENCLAVE_RESOURCE_ID $ENCLAVE_ACTION $(now)" >> "$log"
count_file="$ENCLAVE_DATA_DIR/attempts-$ENCLAVE_RESOURCE_ID-$ENCLAVE_ACTION"
n=$(( $(cat "$count_file" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$count_file"
sleep_s="${ENCLAVE_PARAM_SLEEP_SECONDS:-0}"
# A marker file lets a test make only the first attempt slow.
if [ -f "$ENCLAVE_DATA_DIR/slow-first-only" ] && [ "$n" -gt 1 ]; then sleep_s=0; fi
echo "ENCLAVE_PROGRESS sleeping $sleep_s s"
sleep "$sleep_s"
if [ "${ENCLAVE_PARAM_FAIL:-false}" = "true" ]; then
  echo "the action was told to fail" >&2
  exit 3
fi
echo "end $ENCLAVE_RESOURCE_ID $ENCLAVE_ACTION $(now)" >> "$log"
printf '{"echo_note": "%s", "echo_key": "%s", "attempts": %s}' "${ENCLAVE_PARAM_NOTE:-}" "${ENCLAVE_PARAM_API_KEY:-}" "$n" > "$ENCLAVE_OUTPUTS"
