// The introducer page in a real browser: starts tte-mothership (SQLite, port 0) with a
// local CA, uploads one signed station record, then drives Debian's headless Chromium with
// puppeteer-core: open the Enrollment URL, fill in the form, submit a Controller web address that
// is not http/https (400 naming it, nothing mapped), submit a good one, read the success page and
// follow its link to the Controller, open the URL again and see the "already used" warning; and
// the page of a device its station pre-enrolled through the station API. Screenshots go to
// $TTE_SCREENSHOT_DIR (default: the temp dir). Exit code 0 only when every check held.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const bin = process.env.TTE_BIN ?? 'build/bin';
const dir = mkdtempSync(join(tmpdir(), 'tte-browser-'));
const shots = process.env.TTE_SCREENSHOT_DIR ?? dir;
const f = (name) => join(dir, name);
const sh = (cmd, args) => execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
let server;
let browser;
let profile;

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

async function until(pred, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function makePki() {
  sh('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ca.key')]);
  sh('openssl', ['req', '-x509', '-new', '-key', f('ca.key'), '-sha256', '-days', '30', '-subj', '/CN=TTE test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f('ca.pem')]);
  writeFileSync(f('san.ext'), 'subjectAltName=DNS:tte-000001.net\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  sh('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('tls.key')]);
  sh('openssl', ['req', '-new', '-key', f('tls.key'), '-subj', '/CN=tte-000001.net', '-out', f('tls.csr')]);
  sh('openssl', ['x509', '-req', '-in', f('tls.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-days', '30', '-sha256', '-extfile', f('san.ext'), '-out', f('tls.pem')]);
  for (const n of ['station', 'device']) {
    sh('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f(`${n}.key`)]);
    sh('openssl', ['req', '-x509', '-new', '-key', f(`${n}.key`), '-sha256', '-days', '30', '-subj', `/CN=${n}`, '-out', f(`${n}.pem`)]);
  }
  sh(join(bin, 'tte-mothership'), ['--ms-id', '1', 'admin', 'keygen', 'dtls', '--key', f('dtls.key'), '--cert', f('dtls.pem')]);
  sh(join(bin, 'tte-mothership'), ['admin', 'keygen', 'otp', '--out', f('otp.key')]);
}

function spkiSha256(certFile, encoding) {
  const pub = execFileSync('sh', ['-c', `openssl x509 -in '${certFile}' -noout -pubkey | openssl pkey -pubin -outform DER`]);
  return createHash('sha256').update(pub).digest(encoding);
}

function signedRecord(devid, otp, fingerprint, seq = 1) {
  const rec = { box: null, created: '2026-11-23T07:00:00Z', devid, fingerprint, firmware_sha256: 'a'.repeat(64),
    lot: 'lot-1', otp, prev: '0'.repeat(64), record_id: `station-1-${seq}`, seq, station: 'station-1',
    urn: `urn:dev:ops:32473-tte.demo-00000001${devid}` };
  const canonical = JSON.stringify(rec);  // keys already sorted, as nlohmann::json dump()
  rec.signature = sign('sha256', Buffer.from(canonical), createPrivateKey(readFileSync(f('station.key')))).toString('base64');
  return rec;
}

function upload(port, body, path = '/api/v1/records') {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: 'tte-000001.net', path, method: 'POST',
      ca: readFileSync(f('ca.pem')), cert: readFileSync(f('station.pem')), key: readFileSync(f('station.key')),
      headers: { 'Content-Type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function main() {
  makePki();
  const db = `sqlite://${f('registry.db')}`;
  writeFileSync(f('ms.toml'), `ms_id = 1\n[https]\nlisten = "127.0.0.1:0"\ncert = "${f('tls.pem')}"\nkey = "${f('tls.key')}"\n` +
    `[coaps]\nlisten = "127.0.0.1:0"\ncert = "${f('dtls.pem')}"\nkey = "${f('dtls.key')}"\n` +
    `[database]\nurl = "${db}"\n[otp_hash]\nkey_file = "${f('otp.key')}"\n`);
  const admin = (...a) => sh(join(bin, 'tte-mothership'), ['--config', f('ms.toml'), 'admin', ...a]);
  admin('station', 'add', '--cert', f('station.pem'), '--name', 'station-1');
  admin('lot', 'set', '--lot', 'lot-1', '--first', '00000100', '--last', '000001ff');
  server = spawn(join(bin, 'tte-mothership'), ['--config', f('ms.toml'), '--ports-file', f('ports')], { stdio: 'inherit' });
  await until(() => existsSync(f('ports')), 20000, 'the ports file');
  const https = JSON.parse(readFileSync(f('ports'), 'utf8')).https;  // {"https": "127.0.0.1:PORT", …}
  const port = Number(https.slice(https.lastIndexOf(':') + 1));

  const devid = '00000123', otp = '0f1e2d3c4b5a6978';
  const stored = await upload(port, { records: [signedRecord(devid, otp, spkiSha256(f('device.pem'), 'hex'))] });
  check(stored.status === 200 && JSON.parse(stored.body).results[0].status === 'stored', 'station record stored');

  profile = mkdtempSync(join(tmpdir(), 'tte-chromium-'));
  browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', `--user-data-dir=${profile}`, `--host-resolver-rules=MAP tte-000001.net 127.0.0.1:${port}`,
      `--ignore-certificate-errors-spki-list=${spkiSha256(f('tls.pem'), 'base64')}`, '--window-size=800,900'],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 800, height: 900 });
  const url = `https://tte-000001.net/.well-known/tte?otp=${otp},devid=${devid}`;
  const first = await page.goto(url, { waitUntil: 'load' });
  check(first.status() === 200, 'enrollment page answers 200 over HTTPS with the test CA');
  check(await page.$('form') !== null, 'the page shows the form');
  await page.type('#cip', '192.0.2.10');
  await page.$eval('#cport', (el) => { el.value = ''; });
  await page.type('#cport', '5684');
  await page.type('#cfingerprint', 'c'.repeat(64));
  await page.type('#description', 'Hall <lamp> & "door"');
  await page.type('#cweb', 'javascript:alert(1)');
  const [refused] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#submit')]);
  check(refused.status() === 400, 'a Controller web address that is not http/https is refused with 400');
  const why = await page.$eval('#error', (el) => el.textContent);
  check(why === 'cweb: must be an http:// or https:// URL', `the page names the problem (${why})`);
  check(JSON.parse(admin('show', '--devid', devid)).state === 'not-mapped', 'nothing was mapped');

  await page.goto(url, { waitUntil: 'load' });
  await page.type('#cip', '192.0.2.10');
  await page.$eval('#cport', (el) => { el.value = ''; });
  await page.type('#cport', '5684');
  await page.type('#cfingerprint', 'c'.repeat(64));
  await page.type('#description', 'Hall <lamp> & "door"');
  const web = `https://127.0.0.1:${port}/healthz?from=tte&x="1"`;  // the quotes must come percent-encoded
  await page.type('#cweb', web);
  const [quoted] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#submit')]);
  check(quoted.status() === 400, 'a web address with a raw quote is refused');
  await page.goto(url, { waitUntil: 'load' });
  await page.type('#cip', '192.0.2.10');
  await page.$eval('#cport', (el) => { el.value = ''; });
  await page.type('#cport', '5684');
  await page.type('#cfingerprint', 'c'.repeat(64));
  await page.type('#description', 'Hall <lamp> & "door"');
  const good = `https://tte-000001.net/healthz?from=tte&x=%221%22`;
  await page.type('#cweb', good);
  await page.screenshot({ path: join(shots, 'mothership-form.png') });
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#submit')]);
  const done = await page.$eval('#mapped', (el) => el.textContent);
  check(done.includes('192.0.2.10') && done.includes('5684'), 'the success page names the controller');
  const link = await page.$eval('#controller-web', (el) => ({ href: el.getAttribute('href'), text: el.textContent }));
  check(link.href === good && link.text === good, `the success page links to the Controller's web address (${link.href})`);
  const source = await page.content();
  check(source.includes('from=tte&amp;x=%221%22'), 'the address is escaped in the page');
  await page.screenshot({ path: join(shots, 'mothership-mapped.png') });
  // The link leads on (here to the MotherShip's own /healthz, which stands in for a Controller).
  const followed = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#controller-web')]);
  check(followed[0].status() === 200 && page.url() === good, 'the link opens the Controller\'s address');

  const again = await page.goto(url, { waitUntil: 'load' });
  check(again.status() === 200, 'reopening the URL answers 200');
  const warning = await page.$eval('#already-used', (el) => el.textContent);
  check(warning.includes('This enrollment code was already used.'), 'the page warns that the OTP was already used');
  check(await page.$('form') === null, 'no form once the OTP is used');
  await page.screenshot({ path: join(shots, 'mothership-already-used.png') });
  const shown = JSON.parse(admin('show', '--devid', devid));
  check(shown.state === 'mapped' && shown.description === 'Hall <lamp> & "door"', 'the registry holds the mapping and the description');

  // A device its station pre-enrolled: the label's page says so, no form, no warning.
  const pre = '00000124', preOtp = '1f1e2d3c4b5a6978';
  const second = await upload(port, { records: [signedRecord(pre, preOtp, spkiSha256(f('station.pem'), 'hex'), 2)] });
  check(second.status === 200 && JSON.parse(second.body).results[0].status === 'stored', 'a second record stored');
  const mapped = await upload(port, { cip: '192.0.2.10', cport: 5684, cfingerprint: 'c'.repeat(64) },
    `/api/v1/devices/${pre}/pre-enroll`);
  check(mapped.status === 200 && JSON.parse(mapped.body).state === 'pre-enrolled', 'the station pre-enrolled it');
  const preUrl = `https://tte-000001.net/.well-known/tte?otp=${preOtp},devid=${pre}`;
  const prePage = await page.goto(preUrl, { waitUntil: 'load' });
  check(prePage.status() === 200, 'the pre-enrolled label answers 200');
  const said = await page.$eval('#pre-enrolled', (el) => el.textContent);
  check(said.includes('Nothing to do: this device was set up for you by the manufacturer.'), 'the page says there is nothing to do');
  check(await page.$('form') === null && await page.$('#already-used') === null, 'no form and no "already used" warning');
  check((await page.$eval('#cfingerprint', (el) => el.textContent)) === 'c'.repeat(64), 'the page names the Controller');
  await page.screenshot({ path: join(shots, 'mothership-pre-enrolled.png') });
}

let failed = false;
try {
  await main();
} catch (e) {
  console.error(e);
  failed = true;
} finally {
  // Chromium writes into its profile until it has exited: remove the profile only after close().
  if (browser) await browser.close();
  if (profile) rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
