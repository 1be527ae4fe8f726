# Shared by the load scripts (sourced, not run): the peers' configs, waiting
# for a port, and readings from /proc. Everything listens on loopback.

# Waits until something listens on 127.0.0.1:PORT (5 s), else exits.
wait_port() {  # PORT [SECONDS, default 5]
  for _ in $(seq 1 $((${2:-5} * 20))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $1 did not open" >&2
  exit 1
}

# CPU time (user + system, clock ticks) of PID and its children (nginx's workers).
cpu_ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1"); do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# A /proc/PID/status memory field (VmHWM, VmRSS) of PID and its children, in MB.
memory_mb() {
  local field=$1 total=0 p
  for p in "$2" $(pgrep -P "$2"); do
    total=$((total + $(awk -v f="$field:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  awk -v k=$total 'BEGIN { printf "%.1f", k / 1024 }'
}

# cpu_seconds PID: user + system CPU seconds used so far by PID and its
# children that are still running (nginx's workers).
cpu_seconds() {
  local total=0 p hz
  hz=$(getconf CLK_TCK)
  for p in "$1" $(pgrep -P "$1"); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  awk -v t=$total -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'
}

# paired_ratios FILE_A FILE_B [COLUMN, default 1]: each line of the two files
# is one round (the same round on the same line); prints the median over
# rounds of A's COLUMN divided by B's in the same round, then that ratio's
# first and third quartiles, its minimum and its maximum.
paired_ratios() {
  local column=${3:-1}
  paste -d' ' "$1" "$2" | awk -v c="$column" '{ print $c / $(NF / 2 + c) }' | sort -g | awk '{ r[NR] = $1 } END {
    q1 = r[int((NR + 3) / 4)]; q3 = r[int((3 * NR + 3) / 4)]
    printf "%.3f %.3f %.3f %.3f %.3f\n", (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2, q1, q3, r[1], r[NR] }'
}

# steal_ms CPU: the time the hypervisor has kept virtual CPU CPU from running
# since boot (the "steal" column of /proc/stat), in ms. A virtual machine's
# CPU descheduled for tens of milliseconds delays every event it relays by as
# much: a latency tail no proxy can remove. 0 on bare metal.
steal_ms() {
  awk -v cpu="cpu$1" -v hz="$(getconf CLK_TCK)" '$1 == cpu { printf "%d", $9 * 1000 / hz }' /proc/stat
}

# gateway_yaml PORT ADMIN_PORT BACKEND_PORT WORKERS [SERVER_LINE...]: infergate
# in front of one backend, one route, its defaults otherwise (every monitoring
# feature on). Extra lines go under `server:` as given (indented by the caller).
# IG_EXTRA_YAML, when set, is appended to every gateway's config: top-level
# sections that every infergate peer of a run shares, for example
# IG_EXTRA_YAML=$'drift:\n  multivariate: {enabled: false}' to take the
# detector's training phase (which each process is at a different point of)
# out of a comparison between infergate peers.
gateway_yaml() {
  local port=$1 admin=$2 backend=$3 workers=$4
  shift 4
  echo "server:"
  echo "  listen: 127.0.0.1:$port"
  echo "  workers: $workers"
  local line
  for line in "$@"; do echo "$line"; done
  cat <<YAML
admin:
  listen: 127.0.0.1:$admin
backends:
  - name: mock
    endpoints:
      - url: http://127.0.0.1:$backend
    pool: {max_idle: 256}
routes:
  - name: all
    path_prefix: /
    backend: mock
YAML
  if [[ -n ${IG_EXTRA_YAML:-} ]]; then printf '%s\n' "$IG_EXTRA_YAML"; fi
}

# keys_yaml [limits]: an `auth` section requiring the key the wrk scripts send,
# with a rate limit that never trips when "limits" is given.
keys_yaml() {
  cat <<'YAML'
auth:
  keys:
    - name: loadtest
      key: sk-loadtest-key-0123456789abcdef
YAML
  if [[ ${1:-} == limits ]]; then
    echo "      limits: {requests_per_minute: 100000000, tokens_per_minute: 2000000000, concurrent: 100000}"
  fi
}

# haproxy_cfg PORT BACKEND_PORT THREADS MAXCONN [DEFAULTS_LINE...]: HAProxy as a
# plain HTTP proxy with keep-alive to the backend.
haproxy_cfg() {
  local port=$1 backend=$2 threads=$3 maxconn=$4
  shift 4
  cat <<CFG
global
  nbthread $threads
  maxconn $maxconn
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
CFG
  local line
  for line in "$@"; do echo "$line"; done
  cat <<CFG
  http-reuse always
frontend fe
  bind 127.0.0.1:$port
  default_backend be
backend be
  server mock 127.0.0.1:$backend
CFG
}

# nginx_head DIR WORKERS CONNECTIONS: the start of an nginx config, up to and
# inside `http {` (its temporary files under DIR); the caller adds the server
# and closes the block.
nginx_head() {
  local dir=$1 workers=$2 connections=$3
  mkdir -p "$dir"
  cat <<NGINX
worker_processes $workers;
worker_rlimit_nofile $(ulimit -Hn);
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $connections; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
NGINX
}

# static_backend_conf DIR PORT [TLS_PORT CERT_DIR]: nginx answering every
# request with one fixed chat completion, discarding the upload unread: a
# backend that costs the load generator's core little, so the proxies' own
# cost decides their ratios. With TLS_PORT, the same over HTTPS there (the
# server certificate of tests/support/make_test_certs.sh in CERT_DIR).
static_backend_conf() {
  nginx_head "$1" 1 4096
  local body='{"id":"chatcmpl-static","object":"chat.completion","created":0,"model":"mock-model","choices":[{"index":0,"message":{"role":"assistant","content":"The static backend answers every request with the same short body."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":12,"total_tokens":24}}'
  cat <<NGINX
  server {
    listen 127.0.0.1:$2;
    keepalive_requests 1000000;
    client_max_body_size 8m;
    location / {
      default_type application/json;
      return 200 '$body';
    }
  }
NGINX
  if [[ -n ${3:-} ]]; then
    cat <<NGINX
  server {
    listen 127.0.0.1:$3 ssl;
    ssl_certificate $4/server.crt;
    ssl_certificate_key $4/server.key;
    keepalive_requests 1000000;
    client_max_body_size 8m;
    location / {
      default_type application/json;
      return 200 '$body';
    }
  }
NGINX
  fi
  echo "}"
}
