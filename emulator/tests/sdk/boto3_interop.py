"""boto3 (the AWS SDK for Python, pinned in scripts/requirements-boto3.txt) against the
emulator's S3 dialect, over HTTPS verified against the emulator's certificate.

Run by emulator/tests/boto3_interop.rs with the venv of scripts/setup-boto3.sh:

    boto3_interop.py <flow>...

Environment (set by the test): COS_SECRET_ID, COS_SECRET_KEY (the access key pair),
COS_INTEROP_APPID, COS_INTEROP_REGION, COS_INTEROP_HTTPS_PORT, COS_INTEROP_CA,
COS_INTEROP_WORKDIR.

Prints `@@SDK boto3 <version>` and one `@@RESULT {json}` line per flow (flow, ok,
outcome, seconds, detail); each flow asserts what boto3 returns and fails with boto3's own
error. The S3 client is configured as COS documents for AWS SDKs: the COS region as the SDK
region, the endpoint changed, SigV4, path-style addressing (the endpoint is an IP).
"""

import base64
import hashlib
import json
import os
import ssl
import sys
import time
import traceback
import urllib.request

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

APPID = os.environ["COS_INTEROP_APPID"]
REGION = os.environ["COS_INTEROP_REGION"]
PORT = os.environ["COS_INTEROP_HTTPS_PORT"]
CA = os.environ["COS_INTEROP_CA"]
WORK = os.environ["COS_INTEROP_WORKDIR"]
ENDPOINT = f"https://127.0.0.1:{PORT}"

# Seed 004's SSE-C keys (32 bytes each).
K1 = b"00000000000000000000000000000001"
K2 = b"00000000000000000000000000000002"


def client():
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=os.environ["COS_SECRET_ID"],
        aws_secret_access_key=os.environ["COS_SECRET_KEY"],
        verify=CA,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      retries={"max_attempts": 1}),
    )


def new_bucket(c, name):
    bucket = f"boto3-{name.replace('_', '-')}-{APPID}"
    c.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    return bucket


def ssec(key, prefix="SSECustomer"):
    return {f"{prefix}Algorithm": "AES256", f"{prefix}Key": key}


def body(n):
    return bytes((i * 31 + 7) % 251 for i in range(n))


def expect_error(status, codes, fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        got = e.response["ResponseMetadata"]["HTTPStatusCode"]
        code = e.response.get("Error", {}).get("Code")
        assert got == status, f"expected {status}, got {got} {code}: {e}"
        assert codes is None or code in codes, f"expected {codes}, got {code}: {e}"
        return e
    raise AssertionError(f"expected a {status} refusal, {fn.__name__} succeeded")


def flow_put_get_head_sse_s3():
    """put_object / get_object / head_object with ServerSideEncryption='AES256' (SSE-S3)."""
    c = client()
    bucket = new_bucket(c, "sse-s3")
    data = body(100_000)
    r = c.put_object(Bucket=bucket, Key="sse-s3", Body=data, ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256", r
    g = c.get_object(Bucket=bucket, Key="sse-s3")
    assert g["Body"].read() == data
    assert g["ServerSideEncryption"] == "AES256", g
    h = c.head_object(Bucket=bucket, Key="sse-s3")
    assert h["ServerSideEncryption"] == "AES256" and h["ContentLength"] == len(data), h


def flow_put_get_head_sse_kms():
    """SSE-KMS: aws:kms with the key id S3 echoes, and an encryption context."""
    c = client()
    bucket = new_bucket(c, "sse-kms")
    context = base64.b64encode(json.dumps({"purpose": "boto3"}).encode()).decode()
    r = c.put_object(Bucket=bucket, Key="first", Body=b"k", ServerSideEncryption="aws:kms")
    key_id = r["SSEKMSKeyId"]
    data = body(50_000)
    r = c.put_object(Bucket=bucket, Key="sse-kms", Body=data, ServerSideEncryption="aws:kms",
                     SSEKMSKeyId=key_id, SSEKMSEncryptionContext=context)
    assert r["ServerSideEncryption"] == "aws:kms" and r["SSEKMSKeyId"] == key_id, r
    g = c.get_object(Bucket=bucket, Key="sse-kms")
    assert g["Body"].read() == data
    assert g["ServerSideEncryption"] == "aws:kms" and g["SSEKMSKeyId"] == key_id, g
    h = c.head_object(Bucket=bucket, Key="sse-kms")
    assert h["ServerSideEncryption"] == "aws:kms", h


def flow_put_get_head_sse_c():
    """SSE-C: the key on put, get and head; the key MD5 echoed."""
    c = client()
    bucket = new_bucket(c, "sse-c")
    data = body(70_000)
    r = c.put_object(Bucket=bucket, Key="sse-c", Body=data, **ssec(K1))
    md5 = base64.b64encode(hashlib.md5(K1).digest()).decode()
    assert r["SSECustomerAlgorithm"] == "AES256" and r["SSECustomerKeyMD5"] == md5, r
    g = c.get_object(Bucket=bucket, Key="sse-c", **ssec(K1))
    assert g["Body"].read() == data
    h = c.head_object(Bucket=bucket, Key="sse-c", **ssec(K1))
    assert h["ContentLength"] == len(data) and h["SSECustomerKeyMD5"] == md5, h


def flow_copy_object_sse_c():
    """copy_object from an SSE-C source (CopySourceSSECustomer*) to a new key under another key."""
    c = client()
    bucket = new_bucket(c, "copy-sse-c")
    data = body(40_000)
    c.put_object(Bucket=bucket, Key="src", Body=data, **ssec(K1))
    c.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                  **ssec(K2), **ssec(K1, "CopySourceSSECustomer"))
    g = c.get_object(Bucket=bucket, Key="dst", **ssec(K2))
    assert g["Body"].read() == data
    expect_error(403, None, c.get_object, Bucket=bucket, Key="dst", **ssec(K1))


def flow_upload_file_multipart_sse_c():
    """upload_file above the multipart threshold with SSE-C ExtraArgs (parts carry the key),
    then download_file with the key."""
    c = client()
    bucket = new_bucket(c, "upload-sse-c")
    src = os.path.join(WORK, "boto3-upload.bin")
    data = body(12 * 1024 * 1024 + 123)
    with open(src, "wb") as f:
        f.write(data)
    config = TransferConfig(multipart_threshold=5 * 1024 * 1024,
                            multipart_chunksize=5 * 1024 * 1024, max_concurrency=2)
    c.upload_file(src, bucket, "big", ExtraArgs=ssec(K1), Config=config)
    h = c.head_object(Bucket=bucket, Key="big", **ssec(K1))
    assert h["ContentLength"] == len(data), h
    assert h["ETag"].strip('"').endswith("-3"), h
    dst = os.path.join(WORK, "boto3-download.bin")
    c.download_file(bucket, "big", dst, ExtraArgs=ssec(K1), Config=config)
    with open(dst, "rb") as f:
        assert f.read() == data


def flow_presigned_get():
    """generate_presigned_url for get_object, fetched without the SDK."""
    c = client()
    bucket = new_bucket(c, "presign")
    c.put_object(Bucket=bucket, Key="shared", Body=b"presigned body")
    url = c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared"},
                                   ExpiresIn=300)
    assert "X-Amz-Signature=" in url, url
    context = ssl.create_default_context(cafile=CA)
    with urllib.request.urlopen(url, context=context, timeout=30) as response:
        assert response.status == 200
        assert response.read() == b"presigned body"


def flow_wrong_sse_c_key_refused():
    """get_object and head_object of an SSE-C object with another key: 403, no data."""
    c = client()
    bucket = new_bucket(c, "wrong-key")
    c.put_object(Bucket=bucket, Key="sse-c", Body=b"secret", **ssec(K1))
    expect_error(403, {"AccessDenied"}, c.get_object, Bucket=bucket, Key="sse-c", **ssec(K2))
    expect_error(403, None, c.head_object, Bucket=bucket, Key="sse-c", **ssec(K2))


def flow_bucket_encryption():
    """put/get/delete_bucket_encryption: AES256, then aws:kms; an upload without SSE
    parameters takes the default, and none after the delete."""
    c = client()
    bucket = new_bucket(c, "bucket-enc")
    for algorithm in ["AES256", "aws:kms"]:
        c.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm}}]})
        got = c.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        rule = got["Rules"][0]["ApplyServerSideEncryptionByDefault"]
        assert rule["SSEAlgorithm"] == algorithm, got
        data = body(10_000)
        r = c.put_object(Bucket=bucket, Key=f"default-{algorithm}", Body=data)
        assert r["ServerSideEncryption"] == algorithm, r
        g = c.get_object(Bucket=bucket, Key=f"default-{algorithm}")
        assert g["Body"].read() == data and g["ServerSideEncryption"] == algorithm, g
    c.delete_bucket_encryption(Bucket=bucket)
    expect_error(404, ["ServerSideEncryptionConfigurationNotFoundError"],
                 c.get_bucket_encryption, Bucket=bucket)
    r = c.put_object(Bucket=bucket, Key="after-delete", Body=b"plain")
    assert "ServerSideEncryption" not in r, r


def main(flows):
    print(f"@@SDK boto3 {boto3.__version__}", flush=True)
    for name in flows:
        fn = globals().get(f"flow_{name}")
        started = time.monotonic()
        if fn is None:
            ok, detail = False, f"no flow named {name}"
        else:
            try:
                fn()
                ok, detail = True, ""
            except Exception:  # every failure is the flow's result, with its traceback
                ok, detail = False, traceback.format_exc()
        print("@@RESULT " + json.dumps({
            "flow": name, "ok": ok, "outcome": "pass" if ok else "fail",
            "seconds": round(time.monotonic() - started, 3), "detail": detail,
        }), flush=True)


if __name__ == "__main__":
    assert botocore.__version__ == boto3.__version__, "boto3 and botocore pinned together"
    main(sys.argv[1:])
