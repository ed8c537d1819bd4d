// The JavaScript samples of seeds 001 and 003 (and the flows around them), run with the
// official Node.js SDK (cos-nodejs-sdk-v5, pinned in interop/package.json) against the
// emulator. Driven by emulator/tests/node_interop.rs, which starts the emulator, sets the
// environment below and judges the result lines:
//
//   @@SDK <name> <version>
//   @@RESULT {"flow": ..., "ok": bool, "outcome": "pass"|"fail"|"known-defect"|"defect-fixed",
//             "seconds": n, "detail": "..."}
//
// The samples are called as the documents write them; only the endpoint differs: the SDK
// is given Domain '{Bucket}.cos.{Region}.myqcloud.com:<port>' and every *.myqcloud.com
// name resolves to 127.0.0.1 (dns.lookup below); any other name is refused, so nothing
// leaves the machine. HTTPS is verified against the emulator's certificate
// (NODE_EXTRA_CA_CERTS, set by the test), never disabled.
//
// Environment: COS_SECRET_ID, COS_SECRET_KEY, COS_INTEROP_APPID, COS_INTEROP_REGION,
// COS_INTEROP_HTTPS_PORT, COS_INTEROP_WORKDIR, COS_INTEROP_BEHAVIOUR ("default": every
// switchable rule at its default, so 003's 'AES-256' and MD5-less SSE-C are refused;
// "alternate": COS-ALG-LEGACY and SSEC-MD5-OLD `accepted`).
'use strict';

const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

// Every COS name is the emulator; nothing else is reachable from this harness.
require('./emulator-dns');

const COS = require('cos-nodejs-sdk-v5');
const sdkVersion = require('cos-nodejs-sdk-v5/package.json').version;

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
const WORKDIR = env('COS_INTEROP_WORKDIR');
const BEHAVIOUR = env('COS_INTEROP_BEHAVIOUR');

// 001's SSE-C key as written: base64 of "0123456789ABCDEF0123456789ABCDEF" without its
// '=' padding, and its MD5.
const KEY_001 = 'MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY';
const KEY_001_MD5 = 'U5L61r7jcwdNvT7frmUG8g==';
// A second customer key for copies to a different key (padded base64, with its MD5).
const KEY_2_RAW = Buffer.from('fedcba9876543210FEDCBA9876543210');
const KEY_2 = KEY_2_RAW.toString('base64');
const KEY_2_MD5 = crypto.createHash('md5').update(KEY_2_RAW).digest('base64');

const cos = new COS({
  SecretId: SECRET_ID,
  SecretKey: SECRET_KEY,
  Protocol: 'https:',
  Domain: `{Bucket}.cos.{Region}.myqcloud.com:${PORT}`,
  // One attempt per request, so a failure shows the emulator's first answer.
  ChunkRetryTimes: 0,
});

const call = (method, params) =>
  new Promise((resolve, reject) => {
    cos[method](params, (err, data) => (err ? reject(err) : resolve(data)));
  });

/** The SDK's error as text: COS code, HTTP status and message. */
function describe(err) {
  if (!err) return String(err);
  const e = err.error || err;
  const code = (e && (e.Code || e.code)) || '';
  const message = (e && (e.Message || e.message)) || '';
  return `${err.statusCode || ''} ${code} ${message}`.trim();
}

/** Runs `promise`, which must be refused with `status` (and `code`, if given). */
async function refused(promise, status, code) {
  try {
    await promise;
  } catch (err) {
    assert.strictEqual(err.statusCode, status, `expected HTTP ${status}, got: ${describe(err)}`);
    if (code) {
      const got = (err.error && err.error.Code) || err.code;
      assert.strictEqual(got, code, `expected ${code}, got: ${describe(err)}`);
    }
    return err;
  }
  throw new Error(`expected a refusal (HTTP ${status}${code ? ' ' + code : ''}), but the SDK call succeeded`);
}

let bucketCount = 0;
async function newBucket(tag) {
  bucketCount += 1;
  const Bucket = `node-${tag}-${bucketCount}-${APPID}`.replace(/_/g, '-').toLowerCase();
  await call('putBucket', { Bucket, Region: REGION });
  return Bucket;
}

const bodyText = (data) => Buffer.from(data.Body).toString();

// ---- 001 (JavaScript SDK guide) --------------------------------------------------------

async function sse_cos_001() {
  const Bucket = await newBucket('sse-cos');
  // .cssg-snippet-put-object-sse, as written.
  const put = await call('putObject', {
    Bucket, Region: REGION, Key: '1.jpg', Body: 'hello!', ServerSideEncryption: 'AES256',
  });
  assert.strictEqual(put.headers['x-cos-server-side-encryption'], 'AES256', JSON.stringify(put.headers));
  const got = await call('getObject', { Bucket, Region: REGION, Key: '1.jpg' });
  assert.strictEqual(bodyText(got), 'hello!');
  assert.strictEqual(got.headers['x-cos-server-side-encryption'], 'AES256');
  const head = await call('headObject', { Bucket, Region: REGION, Key: '1.jpg' });
  assert.strictEqual(head.headers['x-cos-server-side-encryption'], 'AES256');
}

async function sse_c_001() {
  const Bucket = await newBucket('sse-c');
  // .cssg-snippet-put-object-sse-c, as written: the unpadded key and its MD5.
  const ssec = {
    SSECustomerAlgorithm: 'AES256',
    SSECustomerKey: KEY_001,
    SSECustomerKeyMD5: KEY_001_MD5,
  };
  const put = await call('putObject', { Bucket, Region: REGION, Key: '1.jpg', Body: 'hello!', ...ssec });
  assert.strictEqual(put.headers['x-cos-server-side-encryption-customer-algorithm'], 'AES256');
  // 001: "you should also use it when you perform ... headObject, getObject".
  const got = await call('getObject', { Bucket, Region: REGION, Key: '1.jpg', ...ssec });
  assert.strictEqual(bodyText(got), 'hello!');
  const head = await call('headObject', { Bucket, Region: REGION, Key: '1.jpg', ...ssec });
  assert.strictEqual(head.headers['x-cos-server-side-encryption-customer-key-md5'], KEY_001_MD5);
  // Without the key the object is not served (SSEC-GET-NEEDS-KEY).
  await refused(call('getObject', { Bucket, Region: REGION, Key: '1.jpg' }), 400, 'InvalidRequest');
  // With another key: refused (403), never another object's plaintext.
  await refused(
    call('getObject', {
      Bucket, Region: REGION, Key: '1.jpg',
      SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY_2, SSECustomerKeyMD5: KEY_2_MD5,
    }),
    403,
  );
}

async function sse_kms_001_key_id_and_context() {
  const Bucket = await newBucket('sse-kms');
  const context = 'eyJhIjoiYXNkZmEiLCJiIjoiMTIzMzIxIn0=';
  // The sample's SSEKMSKeyId 'xxxx' is a placeholder for the user's CMK: as written it
  // names no key and is refused, nothing stored.
  await refused(
    call('putObject', {
      Bucket, Region: REGION, Key: '1.jpg', Body: 'hello!',
      ServerSideEncryption: 'cos/kms', SSEKMSKeyId: 'xxxx', SSEContext: context,
    }),
    400,
  );
  await refused(call('headObject', { Bucket, Region: REGION, Key: '1.jpg' }), 404);
  // The sample's comment: without SSEKMSKeyId the default CMK is used; then the sample
  // again with that CMK's id in place of 'xxxx'.
  const first = await call('putObject', {
    Bucket, Region: REGION, Key: '1.jpg', Body: 'hello!', ServerSideEncryption: 'cos/kms', SSEContext: context,
  });
  const keyId = first.headers['x-cos-server-side-encryption-cos-kms-key-id'];
  assert.ok(keyId, `no CMK id reported: ${JSON.stringify(first.headers)}`);
  const put = await call('putObject', {
    Bucket, Region: REGION, Key: '1.jpg', Body: 'hello!',
    ServerSideEncryption: 'cos/kms', SSEKMSKeyId: keyId, SSEContext: context,
  });
  assert.strictEqual(put.headers['x-cos-server-side-encryption'], 'cos/kms');
  assert.strictEqual(put.headers['x-cos-server-side-encryption-cos-kms-key-id'], keyId);
  const got = await call('getObject', { Bucket, Region: REGION, Key: '1.jpg' });
  assert.strictEqual(bodyText(got), 'hello!');
  assert.strictEqual(got.headers['x-cos-server-side-encryption-cos-kms-key-id'], keyId);
}

async function sse_kms_001_default_key() {
  const Bucket = await newBucket('sse-kms-default');
  // Both optional fields left out: COS's default CMK, no context.
  const put = await call('putObject', {
    Bucket, Region: REGION, Key: '1.jpg', Body: 'hello!', ServerSideEncryption: 'cos/kms',
  });
  assert.strictEqual(put.headers['x-cos-server-side-encryption'], 'cos/kms');
  assert.ok(put.headers['x-cos-server-side-encryption-cos-kms-key-id']);
  const head = await call('headObject', { Bucket, Region: REGION, Key: '1.jpg' });
  assert.strictEqual(head.headers['x-cos-server-side-encryption'], 'cos/kms');
  const got = await call('getObject', { Bucket, Region: REGION, Key: '1.jpg' });
  assert.strictEqual(bodyText(got), 'hello!');
}

// ---- 003 (JavaScript SDK guide, 2020 edition) -------------------------------------------

async function sse_cos_003_aes_256() {
  const Bucket = await newBucket('legacy-aes');
  // 003's sample as written: 'AES-256' (COS-ALG-LEGACY).
  const put = call('putObject', {
    Bucket, Region: REGION, Key: 'picture.jpg', Body: 'hello!', ServerSideEncryption: 'AES-256',
  });
  if (BEHAVIOUR === 'alternate') {
    const data = await put;
    assert.strictEqual(data.headers['x-cos-server-side-encryption'], 'AES256');
    const got = await call('getObject', { Bucket, Region: REGION, Key: 'picture.jpg' });
    assert.strictEqual(bodyText(got), 'hello!');
    return { detail: "'AES-256' accepted as AES256 (COS-ALG-LEGACY accepted)" };
  }
  const err = await refused(put, 400, 'InvalidArgument');
  assert.match(describe(err), /AES-256/);
  await refused(call('headObject', { Bucket, Region: REGION, Key: 'picture.jpg' }), 404);
  return { detail: "'AES-256' refused, 400 InvalidArgument (COS-ALG-LEGACY refused)" };
}

async function sse_c_003_without_md5() {
  const Bucket = await newBucket('ssec-no-md5');
  // 003's sample as written: only SSECustomerKey. The SDK adds neither the algorithm nor
  // the MD5, and a key without its algorithm is refused in every profile (the emulator
  // names the missing header); nothing is stored.
  const err = await refused(
    call('putObject', { Bucket, Region: REGION, Key: 'picture.jpg', Body: 'hello!', SSECustomerKey: KEY_001 }),
    400,
    'InvalidRequest',
  );
  assert.match(describe(err), /customer-algorithm/);
  await refused(call('headObject', { Bucket, Region: REGION, Key: 'picture.jpg' }), 404);
  // The algorithm added, the MD5 still left out (SSEC-MD5-OLD): per the profile.
  const put = call('putObject', {
    Bucket, Region: REGION, Key: 'picture.jpg', Body: 'hello!', SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY_001,
  });
  if (BEHAVIOUR === 'alternate') {
    await put;
    const got = await call('getObject', {
      Bucket, Region: REGION, Key: 'picture.jpg', SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY_001,
      SSECustomerKeyMD5: KEY_001_MD5,
    });
    assert.strictEqual(bodyText(got), 'hello!');
    return { detail: 'key only: refused (no algorithm); algorithm without MD5: accepted (SSEC-MD5-OLD accepted)' };
  }
  const refusal = await refused(put, 400);
  assert.match(describe(refusal), /MD5/i);
  await refused(call('headObject', { Bucket, Region: REGION, Key: 'picture.jpg' }), 404);
  return { detail: 'key only: refused (no algorithm); algorithm without MD5: refused (SSEC-MD5-OLD refused)' };
}

// ---- Around the samples (001: "headObject, getObject, multipartInit, multipartUpload,
// putObjectCopy") ---------------------------------------------------------------------------

async function copy_sse_c_to_new_key() {
  const Bucket = await newBucket('copy');
  const source = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY_001, SSECustomerKeyMD5: KEY_001_MD5 };
  await call('putObject', { Bucket, Region: REGION, Key: 'src/1.jpg', Body: 'copy me', ...source });
  const copySource = `${Bucket}.cos.${REGION}.myqcloud.com/src/1.jpg`;
  // SSE-C source (its key in the copy-source headers) to a destination under another
  // customer key and another object key.
  await call('putObjectCopy', {
    Bucket, Region: REGION, Key: 'dst/copy.jpg', CopySource: copySource,
    SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY_2, SSECustomerKeyMD5: KEY_2_MD5,
    Headers: {
      'x-cos-copy-source-server-side-encryption-customer-algorithm': 'AES256',
      'x-cos-copy-source-server-side-encryption-customer-key': KEY_001,
      'x-cos-copy-source-server-side-encryption-customer-key-MD5': KEY_001_MD5,
    },
  });
  const got = await call('getObject', {
    Bucket, Region: REGION, Key: 'dst/copy.jpg',
    SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY_2, SSECustomerKeyMD5: KEY_2_MD5,
  });
  assert.strictEqual(bodyText(got), 'copy me');
  // The copy is under the new key only.
  await refused(call('getObject', { Bucket, Region: REGION, Key: 'dst/copy.jpg', ...source }), 403);
  // SSE-C source to an SSE-COS destination.
  await call('putObjectCopy', {
    Bucket, Region: REGION, Key: 'dst/cos.jpg', CopySource: copySource, ServerSideEncryption: 'AES256',
    Headers: {
      'x-cos-copy-source-server-side-encryption-customer-algorithm': 'AES256',
      'x-cos-copy-source-server-side-encryption-customer-key': KEY_001,
      'x-cos-copy-source-server-side-encryption-customer-key-MD5': KEY_001_MD5,
    },
  });
  const plain = await call('getObject', { Bucket, Region: REGION, Key: 'dst/cos.jpg' });
  assert.strictEqual(bodyText(plain), 'copy me');
  assert.strictEqual(plain.headers['x-cos-server-side-encryption'], 'AES256');
  // Without the source key the copy is refused.
  await refused(call('putObjectCopy', { Bucket, Region: REGION, Key: 'dst/nokey.jpg', CopySource: copySource }), 400);
}

const MiB = 1024 * 1024;
function pattern(len, seed) {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i += 1) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function multipart_sse_c_key_on_every_part() {
  const Bucket = await newBucket('mpu');
  const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY_001, SSECustomerKeyMD5: KEY_001_MD5 };
  const Key = 'big/multipart.bin';
  const parts = [pattern(MiB, 1), pattern(MiB, 2), pattern(123457, 3)];
  const init = await call('multipartInit', { Bucket, Region: REGION, Key, ...ssec });
  const UploadId = init.UploadId;
  assert.ok(UploadId, JSON.stringify(init));
  const Parts = [];
  for (let i = 0; i < parts.length; i += 1) {
    const up = await call('multipartUpload', {
      Bucket, Region: REGION, Key, UploadId, PartNumber: i + 1, Body: parts[i], ...ssec,
    });
    Parts.push({ PartNumber: i + 1, ETag: up.ETag });
  }
  await call('multipartComplete', { Bucket, Region: REGION, Key, UploadId, Parts });
  const got = await call('getObject', { Bucket, Region: REGION, Key, ...ssec });
  assert.ok(Buffer.from(got.Body).equals(Buffer.concat(parts)), 'the multipart object reads back whole');
  await refused(call('getObject', { Bucket, Region: REGION, Key }), 400, 'InvalidRequest');
}

// KNOWN SDK DEFECT (cos-nodejs-sdk-v5 3.0.0, sdk/advance.js uploadSliceItem): uploadFile /
// sliceUploadFile forward only x-cos-traffic-limit and x-cos-mime-limit to Upload Part, so
// an SSE-C upload above SliceSize sends its parts without the key; the emulator refuses
// them (MPU-SSEC-PARTS, 001: multipartUpload needs the key). The flow passes while the
// defect is observed as described, and reports `defect-fixed` when the upload succeeds.
async function upload_file_sse_c_known_defect() {
  const Bucket = await newBucket('upload-file');
  const file = path.join(WORKDIR, 'upload-file-ssec.bin');
  const data = pattern(2 * MiB + 4321, 7);
  fs.writeFileSync(file, data);
  try {
    await call('uploadFile', {
      Bucket, Region: REGION, Key: 'upload-file.bin', FilePath: file,
      SliceSize: MiB, ChunkSize: MiB,
      SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY_001, SSECustomerKeyMD5: KEY_001_MD5,
    });
  } catch (err) {
    const text = describe(err);
    assert.match(text, /InvalidRequest/, `refused, but not as the defect predicts: ${text}`);
    assert.match(text, /Upload Part must carry/, `the refusal does not say what is missing: ${text}`);
    return { outcome: 'known-defect', detail: `uploadFile sends Upload Part without the SSE-C headers; emulator: ${text}` };
  }
  const got = await call('getObject', {
    Bucket, Region: REGION, Key: 'upload-file.bin',
    SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY_001, SSECustomerKeyMD5: KEY_001_MD5,
  });
  assert.ok(Buffer.from(got.Body).equals(data));
  return { outcome: 'defect-fixed', detail: 'uploadFile with SSE-C now succeeds: remove the known-defect pin' };
}

// ---- What the SDK does in ordinary code ------------------------------------------------

const OTHER_SECRET_ID = env('COS_INTEROP_OTHER_SECRET_ID');
const OTHER_SECRET_KEY = env('COS_INTEROP_OTHER_SECRET_KEY');
const OTHER_APPID = env('COS_INTEROP_OTHER_APPID');

// putObject, putObjectCopy and multipartInit send `Cache-Control:` empty (and
// multipartInit `Content-Type:` empty) when the caller gives none, on purpose (sdk/base.js:
// so that a proxy cannot add one COS would store). The emulator treats them as absent:
// no object HEADs with an empty Cache-Control or Content-Type.
async function default_uploads_no_empty_cache_control() {
  const Bucket = await newBucket('defaults');
  const checkHead = async (Key, what) => {
    const head = await call('headObject', { Bucket, Region: REGION, Key });
    assert.ok(!('cache-control' in head.headers), `${what}: Cache-Control ${JSON.stringify(head.headers['cache-control'])} stored`);
    assert.ok(head.headers['content-type'], `${what}: Content-Type ${JSON.stringify(head.headers['content-type'])}`);
    return head;
  };
  await call('putObject', { Bucket, Region: REGION, Key: 'put.txt', Body: 'plain put' });
  await checkHead('put.txt', 'putObject');
  await call('putObjectCopy', {
    Bucket, Region: REGION, Key: 'copy.txt',
    CopySource: `${Bucket}.cos.${REGION}.myqcloud.com/put.txt`,
  });
  await checkHead('copy.txt', 'putObjectCopy');
  const Key = 'multipart.bin';
  const init = await call('multipartInit', { Bucket, Region: REGION, Key });
  const up = await call('multipartUpload', {
    Bucket, Region: REGION, Key, UploadId: init.UploadId, PartNumber: 1, Body: pattern(1000, 9),
  });
  await call('multipartComplete', {
    Bucket, Region: REGION, Key, UploadId: init.UploadId, Parts: [{ PartNumber: 1, ETag: up.ETag }],
  });
  const head = await checkHead(Key, 'multipartInit');
  assert.strictEqual(head.headers['content-type'], 'application/octet-stream');
}

async function delete_multiple_object() {
  const Bucket = await newBucket('multi-delete');
  const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY_001, SSECustomerKeyMD5: KEY_001_MD5 };
  await call('putObject', { Bucket, Region: REGION, Key: 'a.txt', Body: 'a' });
  await call('putObject', { Bucket, Region: REGION, Key: 'sse-c.txt', Body: 'secret', ...ssec });
  const data = await call('deleteMultipleObject', {
    Bucket, Region: REGION, Objects: [{ Key: 'a.txt' }, { Key: 'sse-c.txt' }, { Key: 'missing' }],
  });
  const deleted = (data.Deleted || []).map((d) => d.Key).sort();
  assert.deepStrictEqual(deleted, ['a.txt', 'missing', 'sse-c.txt'], JSON.stringify(data));
  assert.strictEqual((data.Error || []).length, 0, JSON.stringify(data));
  await refused(call('headObject', { Bucket, Region: REGION, Key: 'sse-c.txt', ...ssec }), 404);
}

async function get_bucket_location() {
  const Bucket = await newBucket('location');
  const data = await call('getBucketLocation', { Bucket, Region: REGION });
  assert.strictEqual(data.LocationConstraint, REGION, JSON.stringify(data));
}

// putBucketEncryption / getBucketEncryption / deleteBucketEncryption, each followed by an
// upload without SSE parameters whose echo shows the bucket's default (BUCKET-ENC-APPLY).
// The SDK reads the rules from data.EncryptionConfiguration, which the COS answer (root
// ServerSideEncryptionConfiguration) never has, so its Rules are asserted on nowhere; the
// SDK turns the 404 NoSuchEncryptionConfiguration after the delete into a success.
async function bucket_encryption() {
  const Bucket = await newBucket('encryption');
  const defaultIs = async (Key, echo) => {
    const put = await call('putObject', { Bucket, Region: REGION, Key, Body: 'by default' });
    assert.strictEqual(put.headers['x-cos-server-side-encryption'], echo, JSON.stringify(put.headers));
    const head = await call('headObject', { Bucket, Region: REGION, Key });
    assert.strictEqual(head.headers['x-cos-server-side-encryption'], echo, JSON.stringify(head.headers));
    const get = await call('getObject', { Bucket, Region: REGION, Key });
    assert.strictEqual(get.headers['x-cos-server-side-encryption'], echo, JSON.stringify(get.headers));
    assert.strictEqual(bodyText(get), 'by default');
  };
  await call('putBucketEncryption', {
    Bucket, Region: REGION,
    ServerSideEncryptionConfiguration: { Rule: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
  });
  const got = await call('getBucketEncryption', { Bucket, Region: REGION });
  assert.strictEqual(got.statusCode, 200, JSON.stringify(got));
  await defaultIs('aes256.txt', 'AES256');
  // The SDK's own test sends the misspelled container (BUCKET-ENC-ALIAS `alias`).
  await call('putBucketEncryption', {
    Bucket, Region: REGION,
    ServerSideEncryptionConfiguration: { Rule: [{ ApplySideEncryptionConfiguration: { SSEAlgorithm: 'KMS', KMSAlgorithm: 'SM4' } }] },
  });
  await defaultIs('kms.txt', 'cos/kms');
  await call('deleteBucketEncryption', { Bucket, Region: REGION });
  const none = await call('getBucketEncryption', { Bucket, Region: REGION });
  assert.strictEqual(none.statusCode, 404, JSON.stringify(none));
  await defaultIs('plain.txt', undefined);
  const kept = await call('headObject', { Bucket, Region: REGION, Key: 'aes256.txt' });
  assert.strictEqual(kept.headers['x-cos-server-side-encryption'], 'AES256', JSON.stringify(kept.headers));
}

async function put_object_acl_grant() {
  const Bucket = await newBucket('grant');
  await call('putObject', { Bucket, Region: REGION, Key: 'kms.txt', Body: 'granted', ServerSideEncryption: 'cos/kms' });
  const other = new COS({
    SecretId: OTHER_SECRET_ID, SecretKey: OTHER_SECRET_KEY, Protocol: 'https:',
    Domain: `{Bucket}.cos.{Region}.myqcloud.com:${PORT}`, ChunkRetryTimes: 0,
  });
  const otherGet = () => new Promise((resolve, reject) => {
    other.getObject({ Bucket, Region: REGION, Key: 'kms.txt' }, (err, data) => (err ? reject(err) : resolve(data)));
  });
  await refused(otherGet(), 403, 'AccessDenied');
  const grantee = `qcs::cam::uin/${OTHER_APPID}:uin/${OTHER_APPID}`;
  await call('putObjectAcl', { Bucket, Region: REGION, Key: 'kms.txt', GrantRead: `id="${grantee}"` });
  const acl = await call('getObjectAcl', { Bucket, Region: REGION, Key: 'kms.txt' });
  assert.match(acl.GrantRead || '', new RegExp(grantee.replace(/[/:]/g, '.')), JSON.stringify(acl));
  assert.strictEqual(bodyText(await otherGet()), 'granted');
}

const FLOWS = {
  default_uploads_no_empty_cache_control,
  delete_multiple_object,
  get_bucket_location,
  bucket_encryption,
  put_object_acl_grant,
  sse_cos_001,
  sse_c_001,
  sse_kms_001_key_id_and_context,
  sse_kms_001_default_key,
  sse_cos_003_aes_256,
  sse_c_003_without_md5,
  copy_sse_c_to_new_key,
  multipart_sse_c_key_on_every_part,
  upload_file_sse_c_known_defect,
};

async function main() {
  console.log(`@@SDK cos-nodejs-sdk-v5 ${sdkVersion}`);
  const names = process.argv.slice(2);
  for (const name of names) {
    const flow = FLOWS[name];
    const start = process.hrtime.bigint();
    let result;
    if (!flow) {
      result = { ok: false, outcome: 'fail', detail: `no flow named ${name}` };
    } else {
      try {
        const r = (await flow()) || {};
        const outcome = r.outcome || 'pass';
        result = { ok: outcome !== 'defect-fixed', outcome, detail: r.detail || '' };
      } catch (err) {
        const detail = err instanceof assert.AssertionError || err instanceof Error ? err.stack || String(err) : describe(err);
        result = { ok: false, outcome: 'fail', detail };
      }
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log('@@RESULT ' + JSON.stringify({ flow: name, seconds, ...result }));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
