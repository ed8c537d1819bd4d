// The page's flows: putObject with SSE-COS, SSE-C (001's key) and SSE-KMS, each read back
// with getObject, and a keyless SSE-C read that must be refused. Configuration comes from
// the URL (?port=&bucket=&region=&id=&key=); results go into the table and
// window.__results, and window.__done is set when every flow has run.
'use strict';

(function () {
  const q = new URLSearchParams(location.search);
  const Bucket = q.get('bucket');
  const Region = q.get('region');
  const cos = new COS({
    SecretId: q.get('id'),
    SecretKey: q.get('key'),
    Protocol: 'https:',
    Domain: '{Bucket}.cos.{Region}.myqcloud.com:' + q.get('port'),
  });
  document.getElementById('title').textContent += ' (cos-js-sdk-v5 ' + q.get('sdk') + ')';
  const KEY_001 = 'MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY';
  const KEY_001_MD5 = 'U5L61r7jcwdNvT7frmUG8g==';
  const SSEC = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY_001, SSECustomerKeyMD5: KEY_001_MD5 };

  const call = (method, params) =>
    new Promise((resolve, reject) => cos[method](params, (err, data) => (err ? reject(err) : resolve(data))));
  const describe = (err) => {
    const e = (err && err.error) || err || {};
    return [err && err.statusCode, e.Code || e.code, e.Message || e.message].filter(Boolean).join(' ');
  };
  const check = (cond, what) => {
    if (!cond) throw new Error(what);
  };

  async function putAndGet(Key, putParams, getParams, expectHeader) {
    const body = 'browser says hello to ' + Key;
    const put = await call('putObject', Object.assign({ Bucket, Region, Key, Body: body }, putParams));
    const [name, value] = expectHeader;
    check(put.headers[name] === value, 'put: ' + name + ' is ' + put.headers[name] + ', not ' + value);
    check(put.ETag, 'put: no ETag exposed');
    const got = await call('getObject', Object.assign({ Bucket, Region, Key }, getParams));
    check(got.Body === body, 'get: body differs: ' + got.Body);
    check(got.headers[name] === value, 'get: ' + name + ' is ' + got.headers[name]);
    check(got.headers['x-cos-request-id'], 'get: x-cos-request-id not exposed');
    return name + ': ' + value;
  }

  const FLOWS = [
    ['put_get_sse_cos', () => putAndGet('sse-cos.txt', { ServerSideEncryption: 'AES256' }, {},
      ['x-cos-server-side-encryption', 'AES256'])],
    ['put_get_sse_c_001_key', () => putAndGet('sse-c.txt', SSEC, SSEC,
      ['x-cos-server-side-encryption-customer-algorithm', 'AES256'])],
    ['put_get_sse_kms', () => putAndGet('sse-kms.txt', { ServerSideEncryption: 'cos/kms' }, {},
      ['x-cos-server-side-encryption', 'cos/kms'])],
    ['get_sse_c_without_key_refused', async () => {
      try {
        await call('getObject', { Bucket, Region, Key: 'sse-c.txt' });
      } catch (err) {
        check(err.statusCode === 400, 'refused, but with ' + describe(err));
        // Status and COS code only: the message is the emulator's prose, not the contract.
        return 'refused: ' + err.statusCode + ' ' + ((err.error && err.error.Code) || err.code);
      }
      throw new Error('the SSE-C object was served without its key');
    }],
  ];

  async function run() {
    const tbody = document.querySelector('#results tbody');
    const results = [];
    for (const [flow, fn] of FLOWS) {
      let ok = false;
      let detail;
      try {
        detail = await fn();
        ok = true;
      } catch (err) {
        detail = err instanceof Error ? err.message : describe(err);
      }
      results.push({ flow, ok, detail: String(detail) });
      const tr = document.createElement('tr');
      for (const [text, cls] of [[flow, ''], [ok ? 'pass' : 'FAIL', ok ? 'pass' : 'fail'], [String(detail), '']]) {
        const td = document.createElement('td');
        td.textContent = text;
        if (cls) td.className = cls;
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
    window.__results = results;
    window.__done = true;
  }
  run();
})();
