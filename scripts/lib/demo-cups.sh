# A private CUPS server with a PDF label printer (device 50x30 mm and box 100x70 mm labels), for the demo site (sourced by scripts/demo).
# Every path lives under DIR. The queue prints through the project's CUPS backend tte-file
# (labels/backend/tte_file.cpp), run from a ServerBin of our own: each job's document becomes
# its own complete file DIR/out/<queue>-<job-id>.pdf, which the station reads back and decodes
# (docs/LABELS.md). CUPS's pdftopdf filter rewrites the PDF on the way, so what reaches the
# file is checked by what it decodes to (the label's URL), not byte for byte.
# Needs TTE_BIN (the built programs; the backend is $TTE_BIN/../lib/cups/backend/tte-file).

# demo_cups_start DIR QUEUE: starts cupsd on a free loopback port, prints the port.
demo_cups_start() {
  local dir=$1 queue=$2 port
  local backend=$TTE_BIN/../lib/cups/backend/tte-file
  [ -x "$backend" ] || { echo "demo: the CUPS backend $backend is not built" >&2; return 1; }
  mkdir -p "$dir"/{spool,cache,state,tmp,log,out,ppd,bin/backend}
  # ServerBin: our backend (mode 0700: cupsd runs it as its own user, which may write DIR/out)
  # beside the system's filters and helper daemons.
  install -m 0700 "$backend" "$dir/bin/backend/tte-file"
  local sub
  for sub in filter daemon cgi-bin notifier monitor driver; do
    [ -d "/usr/lib/cups/$sub" ] && ln -sfn "/usr/lib/cups/$sub" "$dir/bin/$sub"
  done
  # The filters run as user lp and read the queue's PPD under ServerRoot: every directory
  # above it must be reachable by lp.
  local d=$dir
  while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
  chmod -R o+rX "$dir"
  chmod 0700 "$dir/bin/backend/tte-file" "$dir/out"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$dir/cupsd.conf" <<CONF
Listen 127.0.0.1:$port
LogLevel warn
WebInterface No
DefaultPolicy open
<Policy open>
  <Limit All>
    Order allow,deny
    Allow all
  </Limit>
</Policy>
<Location />
  Order allow,deny
  Allow all
</Location>
CONF
  cat >"$dir/cups-files.conf" <<CONF
ServerRoot $dir
ServerBin $dir/bin
RequestRoot $dir/spool
CacheDir $dir/cache
StateDir $dir/state
TempDir $dir/tmp
AccessLog $dir/log/access_log
ErrorLog $dir/log/error_log
PageLog $dir/log/page_log
Printcap $dir/printcap
CONF
  cat >"$dir/ppd/label.ppd" <<'PPD'
*PPD-Adobe: "4.3"
*FormatVersion: "4.3"
*FileVersion: "1.0"
*LanguageVersion: English
*LanguageEncoding: ISOLatin1
*PCFileName: "LABEL.PPD"
*Manufacturer: "TTE"
*Product: "(Label PDF)"
*ModelName: "TTE label PDF pass-through"
*ShortNickName: "TTE label PDF"
*NickName: "TTE label PDF pass-through"
*PSVersion: "(3010.000) 0"
*LanguageLevel: "3"
*ColorDevice: False
*DefaultColorSpace: Gray
*FileSystem: False
*Throughput: "1"
*cupsFilter2: "application/vnd.cups-pdf application/pdf 0 -"
*OpenUI *PageSize: PickOne
*DefaultPageSize: Label1
*PageSize Label1/50x30mm: ""
*PageSize Label2/100x70mm: ""
*CloseUI: *PageSize
*DefaultImageableArea: Label1
*ImageableArea Label1/50x30mm: "0 0 141.73 85.04"
*ImageableArea Label2/100x70mm: "0 0 283.46 198.43"
*DefaultPaperDimension: Label1
*PaperDimension Label1/50x30mm: "141.73 85.04"
*PaperDimension Label2/100x70mm: "283.46 198.43"
PPD
  # A blank one-page PDF of the device label's size for the start-up check.
  printf '%s\n' '%PDF-1.4' '1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj' \
    '2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj' \
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 141.73 85.04]>>endobj' \
    'trailer<</Root 1 0 R>>' '%%EOF' >"$dir/ppd/probe.pdf"
  cupsd -f -c "$dir/cupsd.conf" -s "$dir/cups-files.conf" >"$dir/log/cupsd.out" 2>&1 &
  echo $! >"$dir/cupsd.pid"
  local i
  for i in $(seq 1 100); do
    lpstat -h "127.0.0.1:$port" -r 2>/dev/null | grep -q "is running" && break
    sleep 0.1
  done
  lpadmin -h "127.0.0.1:$port" -p "$queue" -E -v "tte-file:$dir/out" -P "$dir/ppd/label.ppd" 2>/dev/null
  demo_cups_check "$dir" "$port" || return 1
  echo "$port" >"$dir/port"
  echo "$port"
}

# demo_cups_check DIR PORT: prints one page on a probe queue of the same route (PPD, filters,
# tte-file backend) and requires its document to arrive, so a CUPS that no longer prints this
# way stops the demo here, naming CUPS, instead of at every label.
demo_cups_check() {
  local dir=$1 port=$2 probe=tte-probe
  mkdir -p "$dir/probe" && chmod 0700 "$dir/probe"
  lpadmin -h "127.0.0.1:$port" -p "$probe" -E -v "tte-file:$dir/probe" -P "$dir/ppd/label.ppd" 2>/dev/null
  local job
  job=$(lp -h "127.0.0.1:$port" -d "$probe" -o media=om_probe_50x30mm "$dir/ppd/probe.pdf" 2>&1) || {
    echo "demo: CUPS on 127.0.0.1:$port refused a print job: $job" >&2; return 1; }
  job=${job#request id is "$probe"-}; job=${job%% *}
  local i
  for i in $(seq 1 200); do
    [ -s "$dir/probe/$probe-$job.pdf" ] && return 0
    sleep 0.1
  done
  echo "demo: CUPS on 127.0.0.1:$port did not print through the tte-file backend within 20 s" \
       "($(lpstat -h "127.0.0.1:$port" -p "$probe" 2>&1 | head -n 2 | tr '\n' ' '));" \
       "cupsd's log: $dir/log/error_log" >&2
  tail -n 5 "$dir/log/error_log" >&2 2>/dev/null
  return 1
}

demo_cups_stop() {
  local dir=$1
  [ -f "$dir/cupsd.pid" ] && kill "$(cat "$dir/cupsd.pid")" 2>/dev/null || true
  rm -f "$dir/cupsd.pid"
}
