#!/usr/bin/env bash
# The blue-green steps the deploy workflow runs against AWS — the same procedure as
# ops/haproxy/switch.sh runs against HAProxy in the local drill (docs/deploy.md maps them):
#
#   aws-bluegreen.sh wait-healthy TARGET_GROUP_ARN MIN_HEALTHY [TIMEOUT_SECS]
#       wait until the idle color's target group has MIN_HEALTHY healthy targets
#       (the ALB's own /health checks) and no target still initial/draining.
#   aws-bluegreen.sh wait-rollout CLUSTER SERVICE [TIMEOUT_SECS]
#       wait until the service's newest deployment has rolled out (ECS rolloutState COMPLETED,
#       no older deployment left); FAILED (the circuit breaker rolled it back) is an error.
#   aws-bluegreen.sh smoke BASE_URL EXPECTED_COLOR [EXPECTED_REVISION]
#       /health answers 200 with that color; /search answers 200 with hits; /app serves; with a
#       revision, /metrics' sociograph_build_info names it (the new image, not the old one).
#   aws-bluegreen.sh verify LB_ARN_SUFFIX TG_ARN_SUFFIX MINUTES MAX_ERROR_RATIO MAX_P95_MS
#       from CloudWatch's ALB metrics over the last MINUTES: 5xx / requests of the target
#       group and its p95 target response time must stay under the limits.
#
# Needs the AWS CLI (credentials from the environment: the workflow's OIDC role), curl, jq.
# Exit status 0 on success; non-zero with a one-line reason on stderr otherwise.
set -euo pipefail

die() { printf 'aws-bluegreen: %s\n' "$*" >&2; exit 1; }
log() { printf 'aws-bluegreen: %s\n' "$*"; }

wait_healthy() {
    local tg="$1" want="$2" timeout="${3:-600}" deadline healthy pending
    deadline=$(( $(date +%s) + timeout ))
    while :; do
        # shellcheck disable=SC2016 # backticks are JMESPath literals, not shell
        healthy=$(aws elbv2 describe-target-health --target-group-arn "$tg" \
            --query 'length(TargetHealthDescriptions[?TargetHealth.State==`healthy`])' --output text)
        # shellcheck disable=SC2016
        pending=$(aws elbv2 describe-target-health --target-group-arn "$tg" \
            --query 'length(TargetHealthDescriptions[?TargetHealth.State!=`healthy`])' --output text)
        log "target group: $healthy healthy, $pending not (yet)"
        if (( healthy >= want && pending == 0 )); then
            return 0
        fi
        (( $(date +%s) < deadline )) || die "fewer than $want healthy targets after ${timeout}s"
        sleep 10
    done
}

wait_rollout() {
    local cluster="$1" service="$2" timeout="${3:-900}" deadline state count
    deadline=$(( $(date +%s) + timeout ))
    while :; do
        # shellcheck disable=SC2016 # backticks are JMESPath literals
        state=$(aws ecs describe-services --cluster "$cluster" --services "$service" \
            --query 'services[0].deployments[?status==`PRIMARY`] | [0].rolloutState' --output text)
        count=$(aws ecs describe-services --cluster "$cluster" --services "$service" \
            --query 'length(services[0].deployments)' --output text)
        log "$service: primary deployment $state, $count deployment(s)"
        case "$state" in
            COMPLETED) (( count == 1 )) && return 0 ;;
            FAILED) die "$service: the new deployment failed (the circuit breaker rolled it back)" ;;
        esac
        (( $(date +%s) < deadline )) || die "$service did not finish rolling out in ${timeout}s"
        sleep 15
    done
}

smoke() {
    local base="$1" color="$2" revision="${3:-}" body
    body=$(curl -fsS --max-time 10 "$base/health") || die "$base/health did not answer 200"
    [[ "$(jq -r .color <<<"$body")" == "$color" ]] || die "$base/health is not $color: $body"
    body=$(curl -fsS --max-time 10 "$base/search?q=who+backed+the+minister") \
        || die "$base/search did not answer 200"
    jq -e '.hits | type == "array"' <<<"$body" >/dev/null || die "$base/search: no hits array"
    curl -fsS --max-time 10 -o /dev/null "$base/app/" || die "$base/app/ did not answer 200"
    if [[ -n "$revision" ]]; then
        curl -fsS --max-time 10 "$base/metrics" | grep -q "revision=\"$revision\"" \
            || die "$base does not run revision $revision"
    fi
    log "smoke test passed on $base ($color${revision:+, revision $revision})"
}

metric_sum() {
    local name="$1" lb="$2" tg="$3" start="$4" end="$5"
    aws cloudwatch get-metric-statistics --namespace AWS/ApplicationELB --metric-name "$name" \
        --dimensions "Name=LoadBalancer,Value=$lb" "Name=TargetGroup,Value=$tg" \
        --start-time "$start" --end-time "$end" --period 60 --statistics Sum \
        --query 'sum(Datapoints[].Sum)' --output text
}

verify() {
    local lb="$1" tg="$2" minutes="$3" max_ratio="$4" max_p95_ms="$5" start end requests errors p95
    end=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    start=$(date -u -d "-$minutes minutes" +%Y-%m-%dT%H:%M:%SZ)
    requests=$(metric_sum RequestCount "$lb" "$tg" "$start" "$end")
    errors=$(metric_sum HTTPCode_Target_5XX_Count "$lb" "$tg" "$start" "$end")
    p95=$(aws cloudwatch get-metric-statistics --namespace AWS/ApplicationELB \
        --metric-name TargetResponseTime \
        --dimensions "Name=LoadBalancer,Value=$lb" "Name=TargetGroup,Value=$tg" \
        --start-time "$start" --end-time "$end" --period $(( minutes * 60 )) \
        --extended-statistics p95 --query 'Datapoints[0].ExtendedStatistics.p95' --output text)
    [[ "$requests" == "None" ]] && requests=0
    [[ "$errors" == "None" ]] && errors=0
    [[ "$p95" == "None" ]] && p95=0
    log "last ${minutes} min: $requests requests, $errors 5xx, p95 ${p95}s"
    awk -v e="$errors" -v r="$requests" -v max="$max_ratio" \
        'BEGIN { exit !(r == 0 || e / r <= max) }' || die "5xx ratio $errors/$requests is above $max_ratio"
    awk -v p="$p95" -v max="$max_p95_ms" 'BEGIN { exit !(p * 1000 <= max) }' \
        || die "p95 ${p95}s is above ${max_p95_ms} ms"
    log "verified: error ratio and p95 within limits"
}

case "${1:-}" in
    wait-healthy) shift; [[ $# -ge 2 ]] || die "usage: wait-healthy TG_ARN MIN [TIMEOUT]"; wait_healthy "$@" ;;
    wait-rollout) shift; [[ $# -ge 2 ]] || die "usage: wait-rollout CLUSTER SERVICE [TIMEOUT]"; wait_rollout "$@" ;;
    smoke) shift; [[ $# -ge 2 ]] || die "usage: smoke BASE_URL COLOR [REVISION]"; smoke "$@" ;;
    verify) shift; [[ $# -eq 5 ]] || die "usage: verify LB TG MINUTES MAX_RATIO MAX_P95_MS"; verify "$@" ;;
    *) die "usage: aws-bluegreen.sh wait-healthy|wait-rollout|smoke|verify ... (see the header)" ;;
esac
