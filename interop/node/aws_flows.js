// The AWS SDK for JavaScript v3 (@aws-sdk/client-s3, lib-storage, s3-request-presigner,
// pinned in interop/package.json) against the emulator's S3 dialect over verified HTTPS,
// with the SDK's defaults: SigV4, and on uploads its default CRC32 checksum (a header, or
// a trailer on an aws-chunked body). Driven by emulator/tests/aws_js_interop.rs, which
// starts the emulator, sets the environment below and judges the result lines
// (`@@SDK`, `@@RESULT`, as interop/node/flows.js prints them).
//
// Environment: COS_SECRET_ID, COS_SECRET_KEY, COS_INTEROP_APPID, COS_INTEROP_REGION,
// COS_INTEROP_HTTPS_PORT; NODE_EXTRA_CA_CERTS trusts the emulator's certificate.
'use strict';

const assert = require('assert');
const crypto = require('crypto');
const https = require('https');

const {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
  CopyObjectCommand, PutBucketEncryptionCommand, GetBucketEncryptionCommand,
  DeleteBucketEncryptionCommand,
} = require('@aws-sdk/client-s3');
const { Upload } = require('@aws-sdk/lib-storage');
const { getSignedUrl } = require('@aws-sdk/s3-request-presigner');
const sdkVersion = require('@aws-sdk/client-s3/package.json').version;

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`harness: ${name} is not set`);
  return v;
};
const APPID = env('COS_INTEROP_APPID');
const REGION = env('COS_INTEROP_REGION');
const PORT = env('COS_INTEROP_HTTPS_PORT');

const s3 = new S3Client({
  endpoint: `https://127.0.0.1:${PORT}`,
  region: REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: env('COS_SECRET_ID'), secretAccessKey: env('COS_SECRET_KEY') },
  maxAttempts: 1,
});

// Seed 004's SSE-C keys (32 bytes each); the SDK base64-encodes them and adds the MD5.
const K1 = '00000000000000000000000000000001';
const K2 = '00000000000000000000000000000002';
const md5 = (key) => crypto.createHash('md5').update(key).digest('base64');
const ssec = (key) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: key });

const pattern = (n, seed) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 1) b[i] = (i * 31 + seed) % 251;
  return b;
};

let buckets = 0;
async function newBucket(tag) {
  buckets += 1;
  const Bucket = `awsjs-${tag}-${buckets}-${APPID}`.replace(/_/g, '-').toLowerCase();
  await s3.send(new CreateBucketCommand({
    Bucket, CreateBucketConfiguration: { LocationConstraint: REGION },
  }));
  return Bucket;
}

const bytes = async (out) => Buffer.from(await out.Body.transformToByteArray());

async function refused(promise, status) {
  try {
    await promise;
  } catch (err) {
    assert.strictEqual(err.$metadata && err.$metadata.httpStatusCode, status,
      `expected HTTP ${status}, got: ${err.name} ${err.message}`);
    return err;
  }
  throw new Error(`expected a ${status} refusal, but the call succeeded`);
}

async function put_get_head_sse_s3() {
  const Bucket = await newBucket('sse-s3');
  const data = pattern(100000, 7);
  const r = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: data, ServerSideEncryption: 'AES256' }));
  assert.strictEqual(r.ServerSideEncryption, 'AES256');
  const g = await s3.send(new GetObjectCommand({ Bucket, Key: 'k' }));
  assert.strictEqual(g.ServerSideEncryption, 'AES256');
  assert.ok((await bytes(g)).equals(data), 'the bytes read back differ');
  const h = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
  assert.strictEqual(h.ServerSideEncryption, 'AES256');
  assert.strictEqual(h.ContentLength, data.length);
}

async function put_get_head_sse_kms() {
  const Bucket = await newBucket('sse-kms');
  const first = await s3.send(new PutObjectCommand({ Bucket, Key: 'first', Body: 'k', ServerSideEncryption: 'aws:kms' }));
  const SSEKMSKeyId = first.SSEKMSKeyId;
  assert.ok(SSEKMSKeyId, 'no key id echoed');
  const context = Buffer.from(JSON.stringify({ purpose: 'aws-js' })).toString('base64');
  const data = pattern(50000, 3);
  const r = await s3.send(new PutObjectCommand({
    Bucket, Key: 'k', Body: data, ServerSideEncryption: 'aws:kms', SSEKMSKeyId,
    SSEKMSEncryptionContext: context,
  }));
  assert.strictEqual(r.ServerSideEncryption, 'aws:kms');
  assert.strictEqual(r.SSEKMSKeyId, SSEKMSKeyId);
  const g = await s3.send(new GetObjectCommand({ Bucket, Key: 'k' }));
  assert.strictEqual(g.ServerSideEncryption, 'aws:kms');
  assert.ok((await bytes(g)).equals(data));
}

async function put_get_head_sse_c() {
  const Bucket = await newBucket('sse-c');
  const data = pattern(70000, 11);
  const r = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: data, ...ssec(K1) }));
  assert.strictEqual(r.SSECustomerAlgorithm, 'AES256');
  assert.strictEqual(r.SSECustomerKeyMD5, md5(K1));
  const g = await s3.send(new GetObjectCommand({ Bucket, Key: 'k', ...ssec(K1) }));
  assert.ok((await bytes(g)).equals(data));
  const h = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k', ...ssec(K1) }));
  assert.strictEqual(h.ContentLength, data.length);
}

async function copy_object_sse_c() {
  const Bucket = await newBucket('copy');
  const data = pattern(40000, 5);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: data, ...ssec(K1) }));
  const c = await s3.send(new CopyObjectCommand({
    Bucket, Key: 'dst', CopySource: `${Bucket}/src`,
    CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: K1, ...ssec(K2),
  }));
  assert.strictEqual(c.SSECustomerKeyMD5, md5(K2));
  const g = await s3.send(new GetObjectCommand({ Bucket, Key: 'dst', ...ssec(K2) }));
  assert.ok((await bytes(g)).equals(data));
  await refused(s3.send(new GetObjectCommand({ Bucket, Key: 'dst', ...ssec(K1) })), 403);
}

async function upload_multipart_sse_c() {
  const Bucket = await newBucket('upload');
  const data = pattern(12 * 1024 * 1024 + 3, 13);
  const upload = new Upload({
    client: s3, partSize: 5 * 1024 * 1024, queueSize: 2,
    params: { Bucket, Key: 'big', Body: data, ...ssec(K1) },
  });
  await upload.done();
  const h = await s3.send(new HeadObjectCommand({ Bucket, Key: 'big', ...ssec(K1) }));
  assert.strictEqual(h.ContentLength, data.length);
  const g = await s3.send(new GetObjectCommand({ Bucket, Key: 'big', ...ssec(K1) }));
  assert.ok((await bytes(g)).equals(data), 'the multipart object reads back altered');
}

async function presigned_get() {
  const Bucket = await newBucket('presign');
  const data = pattern(3000, 17);
  await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: data }));
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: 'k' }), { expiresIn: 300 });
  const got = await new Promise((resolve, reject) => {
    https.get(url, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
  assert.strictEqual(got.status, 200, got.body.toString());
  assert.ok(got.body.equals(data));
}

async function wrong_sse_c_key_refused() {
  const Bucket = await newBucket('wrong-key');
  await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'secret', ...ssec(K1) }));
  await refused(s3.send(new GetObjectCommand({ Bucket, Key: 'k', ...ssec(K2) })), 403);
}

async function bucket_encryption() {
  const Bucket = await newBucket('bucket-enc');
  for (const SSEAlgorithm of ['AES256', 'aws:kms']) {
    await s3.send(new PutBucketEncryptionCommand({
      Bucket,
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm } }] },
    }));
    const got = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
    assert.strictEqual(got.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm, SSEAlgorithm);
    const r = await s3.send(new PutObjectCommand({ Bucket, Key: SSEAlgorithm, Body: 'x' }));
    assert.strictEqual(r.ServerSideEncryption, SSEAlgorithm);
  }
  await s3.send(new DeleteBucketEncryptionCommand({ Bucket }));
  await refused(s3.send(new GetBucketEncryptionCommand({ Bucket })), 404);
}

const FLOWS = {
  put_get_head_sse_s3, put_get_head_sse_kms, put_get_head_sse_c, copy_object_sse_c,
  upload_multipart_sse_c, presigned_get, wrong_sse_c_key_refused, bucket_encryption,
};

async function main() {
  console.log(`@@SDK @aws-sdk/client-s3 ${sdkVersion}`);
  for (const name of process.argv.slice(2)) {
    const flow = FLOWS[name];
    const start = process.hrtime.bigint();
    let result;
    if (!flow) {
      result = { ok: false, outcome: 'fail', detail: `no flow named ${name}` };
    } else {
      try {
        await flow();
        result = { ok: true, outcome: 'pass', detail: '' };
      } catch (err) {
        result = { ok: false, outcome: 'fail', detail: err.stack || String(err) };
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
