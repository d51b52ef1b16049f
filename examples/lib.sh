# Sourced by every example (never run on its own): where the API is, how to
# get a token, names no earlier run has taken, and the two checks the
# examples make, so that a script stops at the first answer its story does
# not expect.
#
#   PARTNERS_URL  the API (default http://localhost:8080)
#   PARTNERS_BIN  a built `partners` binary to mint tokens with (default:
#                 `go run ./cmd/partners`, from the repository's root)
set -euo pipefail

BASE=${PARTNERS_URL:-http://localhost:8080}
JSON='Content-Type: application/json'

# RUN makes this run's emails, user ids and names its own, so that the
# examples tell the same story on a database that already holds earlier runs.
RUN=$(printf '%04x%04x' $RANDOM $RANDOM)

HEADERS=$(mktemp)
trap 'rm -f "$HEADERS"' EXIT

# token --sub ID --email E --name N: a development token (email_verified: true).
token() {
  if [ -n "${PARTNERS_BIN:-}" ]; then
    "$PARTNERS_BIN" token "$@"
  else
    (cd "$(dirname "${BASH_SOURCE[0]}")/.." && go run ./cmd/partners token "$@")
  fi
}

# call STATUS CURL_ARGS...: curl with CURL_ARGS, printing the answer's body;
# any other status than STATUS stops the script, printing the answer. The
# answer's headers stay in $HEADERS, for position.
call() {
  local want=$1 out status p a
  shift
  echo "> $(request_line "$@")" >&2
  for a in "$@"; do
    # $(position) in a URL cannot stop the script itself
    if [[ $a =~ min_position=([^0-9]|$) ]]; then
      echo "FAILED: no position to wait for in $a" >&2
      return 1
    fi
  done
  out=$(curl -sS -D "$HEADERS" -w '\n%{http_code}' "$@")
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  echo "< $status${out:+ $out}" >&2
  if p=$(position 2>/dev/null); then echo "< X-Event-Position: $p" >&2; fi
  if [ "$status" != "$want" ]; then
    echo "FAILED: the answer is $status, the story expects $want" >&2
    return 1
  fi
  [ -z "$out" ] || printf '%s\n' "$out"
}

# request_line CURL_ARGS...: "METHOD path" for the transcript on stderr.
request_line() {
  local method=GET path="" prev="" a
  for a in "$@"; do
    if [ "$prev" = -X ]; then method=$a; fi
    case $a in "$BASE"*) path=${a#"$BASE"} ;; esac
    prev=$a
  done
  echo "$method $path"
}

# position: the X-Event-Position of the last answer (a command's), the
# min_position a query then waits for to read that command's own write. An
# answer without one stops the script.
position() {
  local p
  p=$(tr -d '\r' <"$HEADERS" | awk 'tolower($1) == "x-event-position:" { print $2 }')
  if [ -z "$p" ]; then
    echo "FAILED: the last answer has no X-Event-Position" >&2
    return 1
  fi
  echo "$p"
}

# check JSON [JQ_ARGS...] FILTER: stops the script unless jq's FILTER holds
# for JSON.
check() {
  local json=$1
  shift
  if ! jq -e "$@" <<<"$json" >/dev/null; then
    echo "FAILED: ${*: -1} does not hold for $json" >&2
    return 1
  fi
}

# siret: a valid SIRET no earlier run used (13 random digits and the Luhn
# check digit): an organization's SIRET is unique.
siret() {
  local digits="" sum=0 d i
  for i in $(seq 13); do digits+=$((RANDOM % 10)); done
  for i in $(seq 0 12); do
    d=$((${digits:i:1} * (2 - i % 2)))
    sum=$((sum + d / 10 + d % 10))
  done
  echo "$digits$(((10 - sum % 10) % 10))"
}
