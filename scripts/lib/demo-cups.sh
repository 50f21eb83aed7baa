# A private CUPS server with a PDF label printer (device 50x30 mm and box 100x70 mm labels), for the demo site (sourced by scripts/demo).
# Every path lives under DIR; the queue writes each label job to a file (DIR/out/<queue>.pdf).
# CUPS's pdftopdf filter rewrites the PDF on the way, so what reaches the file is checked by
# what it decodes to (the label's URL), not byte for byte.

# demo_cups_start DIR QUEUE: starts cupsd on a free loopback port, prints the port.
demo_cups_start() {
  local dir=$1 queue=$2 port
  mkdir -p "$dir"/{spool,cache,state,tmp,log,out,ppd}
  # The filters run as user lp and read the queue's PPD under ServerRoot: every directory
  # above it must be reachable by lp.
  local d=$dir
  while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
  chmod -R o+rX "$dir"
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
RequestRoot $dir/spool
CacheDir $dir/cache
StateDir $dir/state
TempDir $dir/tmp
AccessLog $dir/log/access_log
ErrorLog $dir/log/error_log
PageLog $dir/log/page_log
Printcap $dir/printcap
FileDevice Yes
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
  cupsd -f -c "$dir/cupsd.conf" -s "$dir/cups-files.conf" >"$dir/log/cupsd.out" 2>&1 &
  echo $! >"$dir/cupsd.pid"
  local i
  for i in $(seq 1 100); do
    lpstat -h "127.0.0.1:$port" -r 2>/dev/null | grep -q "is running" && break
    sleep 0.1
  done
  lpadmin -h "127.0.0.1:$port" -p "$queue" -E -v "file://$dir/out/$queue.pdf" -P "$dir/ppd/label.ppd" 2>/dev/null
  echo "$port" >"$dir/port"
  echo "$port"
}

demo_cups_stop() {
  local dir=$1
  [ -f "$dir/cupsd.pid" ] && kill "$(cat "$dir/cupsd.pid")" 2>/dev/null || true
  rm -f "$dir/cupsd.pid"
}
