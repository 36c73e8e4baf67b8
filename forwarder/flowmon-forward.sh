#!/usr/bin/env bash
# flowmon-forward.sh - Flowmon ADS custom script that forwards the events ADS writes to its standard input
# to a Node-RED "flowmon-ads-event" HTTP endpoint. Needs only bash and curl (openssl for --fingerprint).
#
# Parameters (each one a NAME VALUE pair, the way ADS passes them; the name may be written url, --url,
# -url or --url=VALUE; dashes and underscores are interchangeable, case does not matter):
#   url          Node-RED endpoint, http:// or https://                               (required)
#   secret-file  file whose first line is the shared secret, sent as X-ADS-Secret    (required)
#                (a file, never a parameter: ADS shows parameter values in its UI)
#   ca-file      PEM CA bundle that signed the Node-RED certificate (preferred for https)
#   fingerprint  either the SHA-256 fingerprint of the Node-RED certificate (hex, colons optional; needs
#                openssl: the certificate is fetched and compared, then curl is pinned to its public key)
#                or a curl public-key pin "sha256//BASE64" (needs curl >= 7.44, no openssl)
#   timeout      seconds per HTTP attempt (default 10)
#   retries      extra attempts after the first on a transient failure (default 3)
#   backoff      seconds before the first retry, doubled each retry, at most 30 (default 2)
#   spool-dir    where undelivered batches wait (default /data/components/apps/spool/flowmon-forward on
#                an appliance, else spool/ in the private folder below)
#   log-file     log file (default /data/components/apps/log/flowmon-forward.log on an appliance, else
#                flowmon-forward.log in the private folder below)
#   Off an appliance the defaults live in ${XDG_STATE_HOME:-$HOME/.local/state}/flowmon-forward, a folder
#   of the user running the script, never in a shared temporary folder.
#
# Spool safety: everything the script writes is private (umask 077). The spool folder and its pending/,
# rejected/ and tmp/ must belong to the user running the script and be writable by no one else; one of
# ours that is writable by group or others is changed to 0700, anything else is refused: nothing is read
# from or written to it, and the batch on stdin is sent from memory only (exit 5, or 4 if not delivered).
# A file in pending/ that is a symbolic link, not a regular file or owned by another user is never sent:
# it is moved to rejected/NAME.unsafe (or skipped if it cannot be moved) and logged.
#
# Delivery: stdin is copied byte for byte into the spool (pending/) before anything is sent, then every
# pending batch is POSTed oldest first (Content-Type text/plain, header X-ADS-Batch names the batch so the
# receiver can recognise a resend). The run stops at the first batch that cannot be delivered, so order is
# kept and a later run resends from there.
#   2xx                                   delivered, removed from the spool
#   400 413 415 422                       the receiver refuses the content: moved to rejected/, never resent
#   000 (no answer), 408, 429, 5xx        retried with backoff, then left pending
#   any other answer (401 403 404 ...),   a configuration problem (secret, URL, certificate): not retried
#   certificate or pin failures           in this run, left pending so it goes out once fixed
#
# Exit status (ADS cannot retry a script, so a spooled batch is handled, but the status tells the admin):
#   0  this batch was delivered        1  this batch is spooled and will be resent by the next run
#   2  bad parameters (batch spooled)  3  the receiver rejected this batch (kept in rejected/)
#   4  this batch could be neither delivered nor spooled
#   5  the spool was refused as unsafe (see the log); this batch was delivered from memory
set -u -o pipefail
umask 077
export LC_ALL=C

readonly PROG=flowmon-forward
readonly APPLIANCE_DIR=/data/components/apps

work="$(mktemp -d "${TMPDIR:-/tmp}/$PROG.XXXXXX")" || { echo "$PROG: cannot create a temporary folder" >&2; exit 4; }
trap 'rm -rf "$work"' EXIT
# Read everything first, untouched, so ADS is never blocked on its pipe whatever happens next.
cat > "$work/batch"

url='' secret_file='' ca_file='' fingerprint='' timeout=10 retries=3 backoff=2 spool_dir='' log_file=''
errors=()

while [ $# -gt 0 ]; do
  raw="$1"; shift
  name="${raw#"${raw%%[!-]*}"}"
  if [[ "$name" == *=* ]]; then value="${name#*=}"; name="${name%%=*}"
  elif [ $# -gt 0 ]; then value="$1"; shift
  else errors+=("parameter '$raw' has no value"); continue
  fi
  name="$(printf '%s' "$name" | tr 'A-Z_' 'a-z-')"
  case "$name" in
    url) url="$value" ;;
    secret-file) secret_file="$value" ;;
    ca-file) ca_file="$value" ;;
    fingerprint) fingerprint="$value" ;;
    timeout) timeout="$value" ;;
    retries) retries="$value" ;;
    backoff) backoff="$value" ;;
    spool-dir) spool_dir="$value" ;;
    log-file) log_file="$value" ;;
    *) errors+=("unknown parameter '$raw'") ;;
  esac
done

log() {
  local line
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) $PROG[$$]: $*"
  [ -n "$log_file" ] && { mkdir -p "$(dirname "$log_file")" && printf '%s\n' "$line" >> "$log_file"; } 2>/dev/null \
    || printf '%s\n' "$line" >&2
}

# The owner (numeric uid) of a path, following a symbolic link.
owner_of() { ls -ldnL -- "$1" 2>/dev/null | awk '{ print $3 }'; }
# True if the folder (or what a symbolic link to it points at) is writable by its group or by others.
open_to_others() { [ -n "$(find -H "$1" -prune \( -perm -020 -o -perm -002 \) -print 2>/dev/null)" ]; }
# True if the path itself (not what it points at) belongs to the running user or to root.
ours_or_root() { [ -n "$(find "$1" -prune \( -user "$EUID" -o -user 0 \) -print 2>/dev/null)" ]; }

# private_dir FOLDER: creates FOLDER (0700, by the umask) if it is missing, and checks that it belongs to the
# user running the script and that no one else may write to it; one of ours that is writable by group or
# others is changed to 0700. Status 0 if it is fit for use, 1 if it cannot be created or is not a folder,
# 2 if it must not be used (another user's, or open to others and cannot be closed); $why says which.
why=''
private_dir() {
  local d="$1"
  if [ -L "$d" ] && ! ours_or_root "$d"; then
    why="'$d' is a symbolic link that belongs to uid $(ls -ldn -- "$d" | awk '{ print $3 }')"; return 2
  fi
  if [ ! -e "$d" ] && ! mkdir -p -- "$d" 2>/dev/null; then why="cannot create '$d'"; return 1; fi
  [ -d "$d" ] || { why="'$d' is not a folder"; return 1; }
  if [ ! -O "$d" ]; then
    why="'$d' belongs to uid $(owner_of "$d"), not to uid $EUID that runs this script"; return 2
  fi
  if open_to_others "$d"; then
    if ! chmod 700 -- "$d" 2>/dev/null || open_to_others "$d"; then
      why="'$d' is writable by group or others and cannot be changed to 0700"; return 2
    fi
    log "'$d' was writable by group or others; changed to mode 0700"
  fi
  return 0
}

# Default spool and log: the appliance's app folder, or elsewhere a private folder of the running user (never
# a predictable path in a shared temporary folder, where another local user could plant a batch).
spool_state=ok
if [ -d "$APPLIANCE_DIR" ]; then
  : "${spool_dir:=$APPLIANCE_DIR/spool/$PROG}" "${log_file:=$APPLIANCE_DIR/log/$PROG.log}"
elif [ -z "$spool_dir" ] || [ -z "$log_file" ]; then
  default_spool='' default_log='' base_state=ok
  [ -z "$spool_dir" ] && default_spool=1
  if [[ "${XDG_STATE_HOME:-}" == /* ]]; then
    base="$XDG_STATE_HOME/$PROG"
  elif [[ "${HOME:-}" == /* ]] && [ -d "$HOME" ] && [ -O "$HOME" ] && ! open_to_others "$HOME"; then
    base="$HOME/.local/state/$PROG"
  else
    base='' base_state=unusable
    why="no private folder for the defaults: XDG_STATE_HOME is unset and HOME is not a folder of uid $EUID closed to others"
  fi
  [ -z "$log_file" ] && [ -n "$base" ] && log_file="$base/$PROG.log" default_log=1
  if [ -n "$base" ]; then
    private_dir "$base"
    case $? in 1) base_state=unusable ;; 2) base_state=refused ;; esac
  fi
  if [ "$base_state" = ok ]; then
    : "${spool_dir:=$base/spool}"
  else
    [ -n "$default_log" ] && log_file=''
    [ -n "$default_spool" ] && spool_state="$base_state" # logged with the spool below
    [ -z "$log_file" ] && [ -z "$default_spool" ] && log "$why; logging to standard error"
  fi
fi

for pair in "timeout:$timeout" "retries:$retries" "backoff:$backoff"; do
  [[ "${pair#*:}" =~ ^[0-9]+$ ]] || errors+=("${pair%%:*} must be a whole number, got '${pair#*:}'")
done
[[ "$timeout" =~ ^[0-9]+$ ]] && [ "$timeout" -lt 1 ] && errors+=("timeout must be at least 1")
[[ "$url" =~ ^https?://[^/]+ ]] || errors+=("url must start with http:// or https:// (got '${url}')")
secret=''
if [ -z "$secret_file" ]; then errors+=("secret-file is required")
elif [ ! -r "$secret_file" ] || [ -d "$secret_file" ]; then errors+=("cannot read secret-file '$secret_file'")
else
  IFS= read -r secret < "$secret_file" || true
  secret="${secret%$'\r'}"
  [ -n "$secret" ] || errors+=("the first line of secret-file '$secret_file' is empty")
fi
[ -n "$ca_file" ] && [ ! -r "$ca_file" ] && errors+=("cannot read ca-file '$ca_file'")
fp_hex=''
if [ -n "$fingerprint" ] && [[ "$fingerprint" != sha256//* ]]; then
  fp_hex="$(printf '%s' "$fingerprint" | tr -d ':' | tr 'a-f' 'A-F')"
  [[ "$fp_hex" =~ ^[0-9A-F]{64}$ ]] || errors+=("fingerprint must be 64 hex digits (SHA-256) or sha256//BASE64")
  command -v openssl >/dev/null 2>&1 || errors+=("fingerprint in hex needs openssl; use ca-file or a sha256// public-key pin")
fi

pending="$spool_dir/pending" rejected="$spool_dir/rejected"
batch_name="$(date +%s%N)-$$.batch"
size="$(wc -c < "$work/batch" | tr -d ' ')"
if [ "$spool_state" = ok ] && [ "$size" -eq 0 ] && [ ! -e "$spool_dir" ] && [ ! -L "$spool_dir" ]; then
  spool_state=absent # nothing to spool and nothing spooled yet
elif [ "$spool_state" = ok ]; then
  for d in "$spool_dir" "$pending" "$rejected" "$spool_dir/tmp"; do
    private_dir "$d"
    case $? in 1) spool_state=unusable; break ;; 2) spool_state=refused; break ;; esac
  done
fi
case "$spool_state" in
  refused) log "spool REFUSED: $why; nothing in it is read or sent" ;;
  unusable) log "cannot use the spool: $why" ;;
esac
spooled=0
if [ "$size" -gt 0 ]; then
  if [ "$spool_state" != ok ]; then
    log "this batch ($size bytes) is not spooled; it is only in memory"
  elif cp "$work/batch" "$spool_dir/tmp/$batch_name" 2>/dev/null \
    && mv "$spool_dir/tmp/$batch_name" "$pending/$batch_name" 2>/dev/null; then
    spooled=1
  else
    log "cannot write to spool '$spool_dir'; this batch ($size bytes) is only in memory"
  fi
fi
# The status for a batch delivered (or nothing to deliver): 5 tells the admin that the spool was refused.
ok_status=0
[ "$spool_state" = refused ] && ok_status=5

if [ "${#errors[@]}" -gt 0 ]; then
  for e in "${errors[@]}"; do log "configuration error: $e"; done
  if [ "$size" -eq 0 ] || [ "$spooled" -eq 1 ]; then
    [ "$spooled" -eq 1 ] && log "batch $batch_name ($size bytes) spooled until the configuration is fixed"
    exit 2
  fi
  log "batch of $size bytes LOST: bad configuration and no spool"
  exit 4
fi

if [ "$spool_state" = ok ] && command -v flock >/dev/null 2>&1 && { exec 9>>"$spool_dir/.lock"; } 2>/dev/null; then
  if ! flock -w $(( (retries + 1) * (timeout + 30) )) 9; then
    log "another run holds the spool; batch $batch_name left pending"
    [ "$spooled" -eq 1 ] && exit 1 || exit 4
  fi
fi

# curl reads the secret from a private config file, so it never appears in a process listing.
esc="${secret//\\/\\\\}"; esc="${esc//\"/\\\"}"
printf 'header = "X-ADS-Secret: %s"\n' "$esc" > "$work/curl.conf"
unset secret esc

tls_args=()
[ -n "$ca_file" ] && tls_args+=(--cacert "$ca_file")

# The certificate fingerprint is checked on a separate connection, then curl is pinned to that certificate's
# public key, so a different server on curl's own connection fails the pin.
resolve_pin() {
  local authority host port connect cert got pin
  authority="${url#*://}"; authority="${authority%%[/?#]*}"; authority="${authority##*@}"
  if [[ "$authority" =~ ^\[([^]]+)\](:([0-9]+))?$ ]]; then
    host="${BASH_REMATCH[1]}"; port="${BASH_REMATCH[3]:-443}"; connect="[$host]:$port"
  elif [[ "$authority" =~ ^([^:]+)(:([0-9]+))?$ ]]; then
    host="${BASH_REMATCH[1]}"; port="${BASH_REMATCH[3]:-443}"; connect="$host:$port"
  else
    log "fingerprint check: cannot read host and port from the url"; return 1
  fi
  local sni=(-servername "$host")
  [[ "$host" =~ ^[0-9.]+$ || "$host" == *:* ]] && sni=()
  cert="$(timeout "$timeout" openssl s_client -connect "$connect" ${sni[@]+"${sni[@]}"} </dev/null 2>/dev/null \
    | openssl x509 -outform PEM 2>/dev/null)" || true
  [ -n "$cert" ] || { log "fingerprint check: no certificate from $connect"; return 1; }
  got="$(printf '%s\n' "$cert" | openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//' | tr -d ':')"
  if [ "$got" != "$fp_hex" ]; then log "fingerprint check FAILED for $connect: certificate is $got"; return 1; fi
  pin="$(printf '%s\n' "$cert" | openssl x509 -pubkey -noout | openssl pkey -pubin -outform der \
    | openssl dgst -sha256 -binary | openssl base64 -A)" || return 1
  fingerprint="sha256//$pin"
}

pin_ready=1
if [ -n "$fingerprint" ]; then
  if [ -n "$fp_hex" ] && { [ "$size" -gt 0 ] || { [ "$spool_state" = ok ] && [ -n "$(ls -A "$pending" 2>/dev/null)" ]; }; }; then
    resolve_pin || pin_ready=0
  fi
  tls_args+=(--pinnedpubkey "$fingerprint")
  [ -z "$ca_file" ] && tls_args+=(--insecure)
fi

# Sets outcome to delivered, rejected, hold or retry, and last_detail, for one attempt.
attempt() {
  local file="$1" name="$2" code rc
  code="$(curl -sS -o "$work/response" -w '%{http_code}' --max-time "$timeout" --connect-timeout "$timeout" \
    -K "$work/curl.conf" -H 'Content-Type: text/plain' -H 'Expect:' -H "X-ADS-Batch: $name" \
    ${tls_args[@]+"${tls_args[@]}"} --data-binary "@$file" "$url" 2>"$work/curl.err")"
  rc=$?
  last_detail="HTTP $code"
  [ "$rc" -ne 0 ] && last_detail="curl exit $rc: $(head -c 300 "$work/curl.err" | tr '\n' ' ')"
  case "$rc:$code" in
    0:2??) outcome=delivered ;;
    0:400 | 0:413 | 0:415 | 0:422) outcome=rejected ;;
    0:408 | 0:429 | 0:5??) outcome=retry ;;
    0:*) outcome=hold ;;
    51:* | 58:* | 60:* | 77:* | 83:* | 90:* | 91:*) outcome=hold ;;
    *) outcome=retry ;;
  esac
}

send() {
  local file="$1" name="$2" try=0 wait="$backoff"
  while :; do
    attempt "$file" "$name"
    [ "$outcome" = retry ] && [ "$try" -lt "$retries" ] || break
    try=$((try + 1))
    log "batch $name: $last_detail; retry $try of $retries in ${wait}s"
    sleep "$wait"
    wait=$((wait * 2)); [ "$wait" -gt 30 ] && wait=30
  done
  [ "$outcome" = retry ] && outcome=hold
  last_outcome="$outcome"
  case "$outcome" in
    delivered) log "batch $name delivered ($(wc -c < "$file" | tr -d ' ') bytes, $last_detail)" ;;
    rejected) log "batch $name REJECTED by the receiver ($last_detail): $(head -c 300 "$work/response" | tr '\n' ' ')" ;;
    hold) log "batch $name not delivered ($last_detail); kept for the next run" ;;
  esac
}

# A batch file is sent only if it is a regular file of the running user: anything else in pending/ was not
# written by this script (the folder is checked to be ours and closed to others, so this is a second line).
trusted_batch() { [ ! -L "$1" ] && [ -f "$1" ] && [ -O "$1" ]; }

last_detail='' last_outcome='' outcome=''
flush_failed=0
skipped="$work/skipped" # names of untrusted files that could not be moved out of pending/
: > "$skipped"
if [ "$spool_state" != ok ]; then
  : # nothing spooled can be sent
elif [ "$pin_ready" -eq 1 ]; then
  while next="$(ls "$pending" 2>/dev/null | grep '\.batch$' | grep -vxF -f "$skipped" | head -n 1)"; [ -n "$next" ]; do
    if ! trusted_batch "$pending/$next"; then
      what="$(ls -ldn -- "$pending/$next" 2>/dev/null | awk '{ t = substr($1, 1, 1)
        print (t == "-" ? "a file" : t == "l" ? "a symbolic link" : t == "d" ? "a folder" : "a special file") " of uid " $3 }')"
      what="it is ${what:-gone}, not a regular file of uid $EUID that runs this script"
      if mv -- "$pending/$next" "$rejected/$next.$$.unsafe" 2>/dev/null; then
        log "batch $next NOT SENT: $what; moved to rejected/$next.$$.unsafe"
      else
        log "batch $next NOT SENT: $what, and it cannot be moved; skipped"
        printf '%s\n' "$next" >> "$skipped"
      fi
      continue
    fi
    send "$pending/$next" "$next"
    case "$last_outcome" in
      delivered) rm -f "$pending/$next" || break ;;
      rejected) mv "$pending/$next" "$rejected/$next" || break ;;
      *) flush_failed=1; break ;;
    esac
  done
else
  flush_failed=1
fi

if [ "$size" -eq 0 ]; then
  [ "$flush_failed" -eq 0 ] && exit "$ok_status" || exit 1
fi
if [ "$spooled" -eq 0 ]; then
  if [ "$flush_failed" -eq 0 ] && [ "$pin_ready" -eq 1 ]; then
    send "$work/batch" "$batch_name"
    case "$last_outcome" in delivered) exit "$ok_status" ;; rejected) log "rejected batch of $size bytes LOST: no spool"; exit 4 ;; esac
  fi
  log "batch of $size bytes LOST: not delivered and no spool"
  exit 4
fi
[ -e "$pending/$batch_name" ] && { log "batch $batch_name ($size bytes) spooled for the next run"; exit 1; }
[ -e "$rejected/$batch_name" ] && exit 3
exit 0
