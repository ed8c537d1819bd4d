// Drives interop/browser/index.html in Debian's Chromium (headless, through playwright-core
// with the system browser: nothing is downloaded) against the emulator over HTTPS.
// Run by emulator/tests/browser_interop.rs; prints @@SDK and @@RESULT lines like
// interop/node/flows.js.
//
// 1. Serves the page, page.js and the SDK's dist file from interop/ on 127.0.0.1:<port 0>.
// 2. With the Node.js SDK: creates a bucket and gives it a CORS rule for the page's origin
//    (PUT Bucket cors; SSE headers allowed, ETag / x-cos-server-side-encryption* /
//    x-cos-request-id exposed).
// 3. Chromium resolves *.myqcloud.com to 127.0.0.1 (--host-resolver-rules) and accepts the
//    emulator's certificate by its public key only (--ignore-certificate-errors-spki-list
//    with that key's SHA-256), so TLS stays verified against one known key.
// 4. Waits for the page's flows, reads window.__results, saves a screenshot of the result
//    table to COS_INTEROP_SCREENSHOT.
//
// Environment: COS_SECRET_ID, COS_SECRET_KEY, COS_INTEROP_APPID, COS_INTEROP_REGION,
// COS_INTEROP_HTTPS_PORT, COS_INTEROP_CERT (PEM), COS_INTEROP_SCREENSHOT, CHROMIUM.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

require('../node/emulator-dns');

const COS = require('cos-nodejs-sdk-v5');
const { chromium } = require('playwright-core');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`harness: ${name} is not set`);
  return v;
};
const SECRET_ID = env('COS_SECRET_ID');
const SECRET_KEY = env('COS_SECRET_KEY');
const APPID = env('COS_INTEROP_APPID');
const REGION = env('COS_INTEROP_REGION');
const PORT = env('COS_INTEROP_HTTPS_PORT');
const CERT = env('COS_INTEROP_CERT');
const SCREENSHOT = env('COS_INTEROP_SCREENSHOT');
const CHROMIUM = env('CHROMIUM');
const ROOT = path.resolve(__dirname, '..');
const SDK_DIST = require.resolve('cos-js-sdk-v5/dist/cos-js-sdk-v5.min.js');
const SDK_VERSION = require('cos-js-sdk-v5/package.json').version;
const PAGE_TIMEOUT_MS = 120000;

const FILES = {
  '/': [path.join(ROOT, 'browser/index.html'), 'text/html; charset=utf-8'],
  '/page.js': [path.join(ROOT, 'browser/page.js'), 'text/javascript'],
  '/sdk/cos-js-sdk-v5.min.js': [SDK_DIST, 'text/javascript'],
};

function serve() {
  const server = http.createServer((req, res) => {
    const file = FILES[new URL(req.url, 'http://x').pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file[1] });
    fs.createReadStream(file[0]).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium pins keys. */
function spkiHash(pemFile) {
  const cert = new crypto.X509Certificate(fs.readFileSync(pemFile));
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(spki).digest('base64');
}

async function main() {
  console.log(`@@SDK cos-js-sdk-v5 ${SDK_VERSION}`);
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const Bucket = `browser-${crypto.randomBytes(4).toString('hex')}-${APPID}`;
  const admin = new COS({
    SecretId: SECRET_ID,
    SecretKey: SECRET_KEY,
    Protocol: 'https:',
    Domain: `{Bucket}.cos.{Region}.myqcloud.com:${PORT}`,
  });
  const call = (method, params) =>
    new Promise((resolve, reject) => admin[method](params, (e, d) => (e ? reject(e) : resolve(d))));
  await call('putBucket', { Bucket, Region: REGION });
  await call('putBucketCors', {
    Bucket,
    Region: REGION,
    CORSRules: [{
      AllowedOrigin: [origin],
      AllowedMethod: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
      AllowedHeader: ['*'],
      ExposeHeader: [
        'ETag', 'Content-Length', 'x-cos-request-id', 'x-cos-server-side-encryption',
        'x-cos-server-side-encryption-cos-kms-key-id', 'x-cos-server-side-encryption-customer-algorithm',
        'x-cos-server-side-encryption-customer-key-MD5',
      ],
      MaxAgeSeconds: 60,
    }],
  });
  const cors = await call('getBucketCors', { Bucket, Region: REGION });
  if (!cors.CORSRules || cors.CORSRules.length !== 1) {
    throw new Error(`GET Bucket cors did not return the rule: ${JSON.stringify(cors)}`);
  }

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', // root in CI containers
      '--host-resolver-rules=MAP *.myqcloud.com 127.0.0.1',
      `--ignore-certificate-errors-spki-list=${spkiHash(CERT)}`,
    ],
  });
  let results;
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 400 } });
    page.on('console', (m) => console.error(`page console: ${m.text()}`));
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    const qs = new URLSearchParams({
      port: PORT, bucket: Bucket, region: REGION, id: SECRET_ID, key: SECRET_KEY, sdk: SDK_VERSION,
    });
    await page.goto(`${origin}/?${qs}`);
    await page.waitForFunction(() => window.__done === true, null, { timeout: PAGE_TIMEOUT_MS });
    results = await page.evaluate(() => window.__results);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.locator('body').screenshot({ path: SCREENSHOT });
  } finally {
    await browser.close();
    server.close();
  }
  for (const r of results) {
    console.log('@@RESULT ' + JSON.stringify({
      flow: r.flow, ok: r.ok, outcome: r.ok ? 'pass' : 'fail', seconds: 0, detail: r.detail,
    }));
  }
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : JSON.stringify(err));
  process.exit(2);
});
