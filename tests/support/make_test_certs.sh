#!/usr/bin/env bash
# Makes the certificates the TLS tests use, in directory $1, with the openssl
# command: a test CA; a server certificate for localhost and 127.0.0.1 signed
# by it; one for the wrong host name; an expired one; one signed by nobody
# the gateway trusts (self-signed); and a client certificate for mTLS.
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
quiet() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@"; exit 1; }; }

quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj "/CN=infergate test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# sign NAME SAN [openssl ca dates]: NAME.key and NAME.crt signed by the test CA.
sign() {
  local name=$1 san=$2
  quiet openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$name"
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" >"$name.ext"
  quiet openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$name.crt" -days 30 \
    -extfile "$name.ext"
}
sign server "DNS:localhost,IP:127.0.0.1"
sign wronghost "DNS:wrong.example"
sign client "DNS:client.example"

# Expired: `openssl ca` is the command that takes explicit dates.
mkdir -p ca-db && : >ca-db/index.txt && echo 1000 >ca-db/serial
cat >ca.cnf <<CNF
[ca]
default_ca = test
[test]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
certificate = ca.crt
private_key = ca.key
default_md = sha256
policy = any
copy_extensions = copy
[any]
commonName = supplied
CNF
quiet openssl req -newkey rsa:2048 -nodes -keyout expired.key -out expired.csr -subj "/CN=expired" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
quiet openssl ca -batch -config ca.cnf -in expired.csr -out expired.crt -startdate 20200101000000Z \
  -enddate 20200102000000Z

# Trusted by nobody: self-signed, for the right name.
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout selfsigned.key -out selfsigned.crt -days 30 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
echo "certificates in $dir"
