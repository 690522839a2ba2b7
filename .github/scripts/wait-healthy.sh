#!/usr/bin/env bash
# Wait until STACK's service answers 200 on /health: 30 attempts, 20 s apart (10 minutes).
# Usage: wait-healthy.sh STACK SERVICE_URL. Writes a failure note to the job summary.
set -euo pipefail
stack=$1
service_url=$2
if [[ -z $service_url ]]; then
  echo "::error::$stack exported no service_url: cannot check /health"
  exit 1
fi
url="${service_url%/}/health"
for attempt in $(seq 1 30); do
  code=$(curl --silent --show-error --output /dev/null --write-out '%{http_code}' --max-time 10 "$url" || true)
  if [[ $code == 200 ]]; then
    echo "$stack is healthy: $url answered 200 (attempt $attempt)"
    exit 0
  fi
  echo "attempt $attempt: $url answered ${code:-nothing}; retrying in 20 s"
  sleep 20
done
echo "::error::$stack is NOT healthy after 10 minutes: $url never answered 200. Check the ECS service events and the backend logs."
{
  echo "## :x: $stack is not healthy"
  echo ""
  echo "\`$url\` did not answer 200 within 10 minutes of the deploy."
} >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
exit 1
