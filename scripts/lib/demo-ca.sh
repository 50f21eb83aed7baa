# Local certificate authority for the demo site (sourced by scripts/demo).
# The MotherShip's HTTPS certificate is an ordinary CA-issued one for its host name
# (draft 2); the demo plays that CA on this machine.

# demo_ca_init DIR: makes DIR/ca.pem and DIR/ca.key (P-256, 10 years) unless present.
demo_ca_init() {
  local dir=$1
  mkdir -p "$dir"
  [ -f "$dir/ca.pem" ] && return 0
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key" 2>/dev/null
  chmod 600 "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 -subj "/CN=TTE demo CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.pem" 2>/dev/null
}

# demo_ca_issue CADIR OUTPREFIX NAME...: a server/client certificate for the DNS names and
# IP addresses given (the first is the CN), written to OUTPREFIX.pem / OUTPREFIX.key.
demo_ca_issue() {
  local cadir=$1 out=$2; shift 2
  local cn=$1 san="" n
  for n in "$@"; do
    if [[ $n =~ ^[0-9.]+$ ]]; then san+="IP:$n,"; else san+="DNS:$n,"; fi
  done
  [ -f "$out.pem" ] && return 0
  openssl ecparam -name prime256v1 -genkey -noout -out "$out.key" 2>/dev/null
  chmod 600 "$out.key"
  openssl req -new -key "$out.key" -subj "/CN=$cn" -out "$out.csr" 2>/dev/null
  openssl x509 -req -in "$out.csr" -CA "$cadir/ca.pem" -CAkey "$cadir/ca.key" -CAcreateserial \
    -days 825 -sha256 -out "$out.pem" \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' "${san%,}") 2>/dev/null
  rm -f "$out.csr"
}
