# Sourced by scripts/test.sh and scripts/test-sanitizers.sh: runs each tier
# of the test command under `tier NAME COMMAND...`, which records its wall
# time, and prints every tier's time when the command ends (on failure too,
# with the failing tier marked).
#
# The times go to $LOWBIT_TIER_LOG (created by the outermost script), so a
# nested script adds its tiers to the same table.

if [ -z "${LOWBIT_TIER_LOG:-}" ]; then
  LOWBIT_TIER_LOG=$(mktemp)
  export LOWBIT_TIER_LOG
  LOWBIT_TIER_OWNER=$$
  LOWBIT_TIER_START=$(date +%s)
  tier_summary() {
    local rc=$?
    if [ "${LOWBIT_TIER_OWNER:-}" = "$$" ] && [ -f "$LOWBIT_TIER_LOG" ]; then
      echo "== time per tier (wall clock, seconds)"
      awk -F'\t' '{ printf "  %-44s %6d s  %s\n", $1, $2, $3 }' "$LOWBIT_TIER_LOG"
      printf '  %-44s %6d s\n' "total" $(( $(date +%s) - LOWBIT_TIER_START ))
      rm -f "$LOWBIT_TIER_LOG"
    fi
    return $rc
  }
  trap tier_summary EXIT
fi

# tier NAME COMMAND...: runs COMMAND, records NAME's time; returns COMMAND's
# status (the callers run under `set -e`, so a failing tier ends the run).
tier() {
  local name=$1
  shift
  local t0 rc=0
  t0=$(date +%s)
  "$@" || rc=$?
  printf '%s\t%d\t%s\n' "$name" $(( $(date +%s) - t0 )) \
    "$([ $rc = 0 ] || echo "FAILED (exit $rc)")" >> "$LOWBIT_TIER_LOG"
  return $rc
}
