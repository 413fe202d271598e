#!/bin/sh
# One-shot (temporalio/admin-tools): wait for the Temporal frontend, then create the console's
# namespace if it does not exist yet. Idempotent.
set -eu
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-168h}"

# The server binds IPv4 only: talk to it by its IPv4 address, as Temporal's own compose samples do.
resolve() {
  ip=$(getent ahostsv4 "${ADDRESS%:*}" 2>/dev/null | awk 'NR == 1 { print $1 }')
  if [ -n "$ip" ]; then echo "$ip:${ADDRESS##*:}"; else echo "$ADDRESS"; fi
}

tries=0
until TARGET=$(resolve) && temporal operator cluster health --address "$TARGET" 2>/dev/null | grep -q SERVING; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "Temporal at $ADDRESS did not become healthy" >&2
    exit 1
  fi
  sleep 2
done

if temporal operator namespace describe --address "$TARGET" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "Namespace '$NAMESPACE' already exists."
else
  temporal operator namespace create --address "$TARGET" --namespace "$NAMESPACE" --retention "$RETENTION"
  echo "Namespace '$NAMESPACE' created."
fi
