#!/usr/bin/env bash
# Blue-green traffic switch through HAProxy's runtime API (ops/haproxy/haproxy.cfg).
#
#   switch.sh [options] to blue|green   move the traffic to that color
#   switch.sh [options] rollback        move it back to the color that is idle now
#   switch.sh [options] status          print each color's state, weight and sessions
#
# Options:
#   --socket PATH          HAProxy's admin socket [$SG_ADMIN_SOCKET]
#   --backend NAME         backend holding the blue and green servers [sociograph]
#   --smoke PATH           request sent straight to the new color before any traffic moves
#                          [/search?q=minister]
#   --verify-secs N        how long to watch the new color's own error ratio after the move [10]
#   --max-error-ratio R    5xx / requests above this rolls the move back [0.001]
#   --timeout N            seconds to wait for health and for the old color to drain [120]
#
# The sequence is the deploy workflow's (docs/operations.md, "Blue-green"); starting the new
# release on the idle color comes before it and is the platform's job:
#   1. wait until HAProxy's health checks see the new color up;
#   2. smoke-test it directly (not through HAProxy): /health ready with the right color, the
#      smoke request answered 200 by that color;
#   3. shift: the new color's weight to 100 first, then the old color's to 0 (the other order
#      leaves an instant with no weighted server);
#   4. drain: wait until the old color has no sessions left;
#   5. verify: over --verify-secs, the 5xx ratio of the new color's own /metrics counters
#      (health probes excluded) must stay at or below --max-error-ratio, or the weights are put
#      back and the command fails;
#   6. keep the old color running at weight 0 for the rollback window: `switch.sh rollback` is
#      this same sequence towards it.
# Each step prints one line; any failure exits non-zero with the reason.
set -euo pipefail

socket="${SG_ADMIN_SOCKET:-}"
backend="sociograph"
smoke="/search?q=minister"
verify_secs=10
max_error_ratio=0.001
timeout=120

die() {
    echo "switch: error: $*" >&2
    exit 1
}
say() { echo "switch: $*"; }

while [ $# -gt 0 ]; do
    case "$1" in
    --socket) socket="${2:?--socket needs a path}"; shift 2 ;;
    --backend) backend="${2:?--backend needs a name}"; shift 2 ;;
    --smoke) smoke="${2:?--smoke needs a path}"; shift 2 ;;
    --verify-secs) verify_secs="${2:?--verify-secs needs a number}"; shift 2 ;;
    --max-error-ratio) max_error_ratio="${2:?--max-error-ratio needs a number}"; shift 2 ;;
    --timeout) timeout="${2:?--timeout needs a number}"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --*) die "unknown option $1 (see --help)" ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || die "no command: to blue|green, rollback or status (see --help)"
[ -n "$socket" ] || die "no admin socket: pass --socket or set SG_ADMIN_SOCKET"
[ -S "$socket" ] || die "$socket is not a socket (is HAProxy running with ops/haproxy/haproxy.cfg?)"
for tool in socat curl awk; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
case "$verify_secs$timeout" in *[!0-9]*) die "--verify-secs and --timeout take whole seconds" ;; esac

api() {
    local out
    out=$(echo "$*" | socat -t 10 stdio "unix-connect:$socket") || die "HAProxy runtime API: '$*' failed"
    # Commands that change state answer nothing on success.
    case "$out" in
    "" | "# "* | [0-9]*) printf '%s\n' "$out" ;;
    *) die "HAProxy refused '$*': $out" ;;
    esac
}

# field SERVER NAME: one column of `show servers state` for a server (by the header's names).
field() {
    api "show servers state $backend" | awk -v srv="$1" -v col="$2" '
        /^# be_id/ { for (i = 2; i <= NF; i++) idx[$i] = i - 1; next }
        /^#/ || NF < 5 { next }
        $4 == srv { print $(idx[col]); found = 1 }
        END { if (!found) exit 1 }' || die "no server $1 in backend $backend"
}

# sessions SERVER: current sessions on a server (`show stat`, column scur).
sessions() {
    api "show stat -1 4 -1" | awk -F, -v be="$backend" -v srv="$1" '
        /^# / { sub(/^# /, ""); for (i = 1; i <= NF; i++) idx[$i] = i; next }
        $1 == be && $2 == srv { print $(idx["scur"]) }'
}

# weight SERVER: the configured (user) weight.
weight() { field "$1" srv_uweight; }
# up SERVER: 0 when its health checks pass (operational state 2 = running).
up() { [ "$(field "$1" srv_op_state)" = 2 ]; }
url_of() { echo "http://$(field "$1" srv_addr):$(field "$1" srv_port)"; }

other() { if [ "$1" = blue ]; then echo green; else echo blue; fi; }

status() {
    local color
    for color in blue green; do
        local state=down
        up "$color" && state=up
        echo "$color: $state, weight $(weight "$color"), $(sessions "$color") sessions + $(sessions "$color-standby") as standby, $(url_of "$color")"
    done
}

# counts URL: "<requests> <5xx>" from the service's own request counter, health probes excluded.
counts() {
    curl -fsS --max-time 5 "$1/metrics" | awk '
        /^http_server_request_duration_seconds_count\{/ {
            if ($0 ~ /http_route="\/health/) next
            total += $NF
            if ($0 ~ /http_response_status_code="5[0-9][0-9]"/) errors += $NF
        }
        END { printf "%d %d\n", total, errors }'
}

switch_to() {
    local to="$1" from
    from=$(other "$to")
    local direct
    direct=$(url_of "$to")

    say "1/6 waiting for HAProxy to see $to up ($direct)"
    local waited=0
    until up "$to"; do
        [ "$waited" -lt "$timeout" ] || die "$to is not up after ${timeout}s; traffic stays on $from"
        sleep 1
        waited=$((waited + 1))
    done

    say "2/6 smoke test straight to $to"
    local health
    health=$(curl -fsS --max-time 10 "$direct/health") || die "$direct/health did not answer 200; traffic stays on $from"
    case "$health" in
    *'"status":"ready"'*'"color":"'"$to"'"'*) ;;
    *) die "$direct/health is not a ready $to: $health; traffic stays on $from" ;;
    esac
    local answered
    answered=$(curl -sS --max-time 30 -o /dev/null -D - "$direct$smoke" |
        awk 'NR == 1 { code = $2 } tolower($1) == "x-sociograph-color:" { sub(/\r$/, "", $2); color = $2 }
             END { print code, color }')
    [ "$answered" = "200 $to" ] || die "smoke request $smoke answered '$answered', expected '200 $to'; traffic stays on $from"

    local before
    before=$(counts "$direct") || die "cannot read $direct/metrics; traffic stays on $from"

    say "3/6 shifting traffic: $to weight 100, then $from weight 0"
    api "set server $backend/$to weight 100" >/dev/null
    api "set server $backend/$from weight 0" >/dev/null

    say "4/6 draining $from"
    waited=0
    while [ "$(sessions "$from")" != 0 ] || [ "$(sessions "$from-standby")" != 0 ]; do
        [ "$waited" -lt $((timeout * 10)) ] || die "$from still has sessions after ${timeout}s (traffic is on $to)"
        sleep 0.1
        waited=$((waited + 1))
    done

    say "5/6 verifying $to's error ratio for ${verify_secs}s"
    sleep "$verify_secs"
    local after
    after=$(counts "$direct") || die "cannot read $direct/metrics after the move"
    local verdict
    verdict=$(echo "$before $after $max_error_ratio" | awk '{
        requests = $3 - $1; errors = $4 - $2
        ratio = requests > 0 ? errors / requests : 0
        printf "%s %d requests, %d 5xx, ratio %.5f\n", (ratio <= $5 ? "ok" : "bad"), requests, errors, ratio }')
    case "$verdict" in
    ok*) say "   $to served ${verdict#ok }" ;;
    *)
        api "set server $backend/$from weight 100" >/dev/null
        api "set server $backend/$to weight 0" >/dev/null
        die "$to served ${verdict#bad } (limit $max_error_ratio): traffic moved back to $from"
        ;;
    esac

    say "6/6 traffic on $to; $from kept idle at weight 0 for the rollback window ($0 --socket $socket rollback)"
}

case "$1" in
status) status ;;
to)
    case "${2:-}" in
    blue | green) switch_to "$2" ;;
    *) die "to: which color? blue or green" ;;
    esac
    ;;
rollback)
    if [ "$(weight blue)" -gt 0 ] && [ "$(weight green)" -eq 0 ]; then
        switch_to green
    elif [ "$(weight green)" -gt 0 ] && [ "$(weight blue)" -eq 0 ]; then
        switch_to blue
    else
        die "cannot tell the active color (blue weight $(weight blue), green weight $(weight green)); use: to blue|green"
    fi
    ;;
*) die "unknown command $1: to blue|green, rollback or status" ;;
esac
