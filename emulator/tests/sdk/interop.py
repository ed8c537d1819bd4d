"""The official COS Python SDK (cos-python-sdk-v5) driving the emulator, one function per flow.

Run by emulator/tests/sdk_interop.rs with the interpreter of .venv-sdk/ (made by
scripts/setup-python-sdk.sh) against an emulator it started on 127.0.0.1:

    interop.py --scheme http|https FLOW [FLOW ...]

Environment (set by the Rust test): COS_SECRET_ID / COS_SECRET_KEY (the names the vendor's
samples read), COS_INTEROP_APPID, COS_INTEROP_REGION, COS_INTEROP_HTTP_PORT,
COS_INTEROP_HTTPS_PORT, COS_INTEROP_CA (the emulator's certificate, PEM: HTTPS is verified
against it, never disabled), COS_INTEROP_WORKDIR (scratch files), COS_INTEROP_DEBUG=1 (the
SDK's debug log: every request and response header).

For every flow asked for it prints one line `@@RESULT {"flow", "ok", "seconds", "error"}`;
a failure's error carries the SDK's exception (status, COS error code, message, request id)
and the traceback. The exit status is 0 when every flow ran (passed or failed) and 2 on a
usage error, so the caller reads the verdicts from the result lines.

The flows follow the vendor's samples (seed 004) call for call; where a sample cannot run
as printed, the flow says why in a comment (e.g. 004 imports `to_byte` but calls
`to_bytes`).

Connections: the SDK is configured with CosConfig(IP='127.0.0.1', Port=...), so almost
every request goes to the emulator directly. Three SDK paths ignore IP/Port and build a URL
on the real domain: `copy()`'s HEAD of the source (`_head_object_when_copy`),
`list_buckets()` (service.cos.myqcloud.com) and presigned URLs fetched by a plain HTTP
client. For those, `loopback_only` maps `*.myqcloud.com` / `*.tencentcos.cn` port 80/443 to
the emulator's HTTP/HTTPS port (as an /etc/hosts entry plus a port forward would) and
refuses every other destination, so nothing ever leaves 127.0.0.1. Each mapping is logged.
"""

import argparse
import base64
import hashlib
import importlib.metadata
import json
import logging
import os
import sys
import time
import traceback

import crcmod
import requests
import urllib3.util.connection

from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_comm import get_md5, to_bytes
from qcloud_cos.cos_exception import CosClientError, CosServiceError

ENV = os.environ
APPID = ENV["COS_INTEROP_APPID"]
REGION = ENV["COS_INTEROP_REGION"]
PORTS = {"http": int(ENV["COS_INTEROP_HTTP_PORT"]), "https": int(ENV["COS_INTEROP_HTTPS_PORT"])}
CA = ENV["COS_INTEROP_CA"]
WORKDIR = ENV["COS_INTEROP_WORKDIR"]
SECRET_ID = ENV["COS_SECRET_ID"]
SECRET_KEY = ENV["COS_SECRET_KEY"]

# CRC-64/XZ exactly as the SDK builds it for download_file's check (resumable_downloader.py).
CRC64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)
# A body spanning three 1 MiB multipart parts (upload_file's default PartSize is 1 MB) and
# not a multiple of the emulator's 64 KiB encryption chunk.
BIG = bytes((i * 7 + i // 4096) % 256 for i in range(2 * 1024 * 1024 + 512 * 1024 + 17))

log = logging.getLogger("interop")


# ---------------------------------------------------------------------------------------
# Harness


def loopback_only():
    """Let connections reach 127.0.0.1 only; map the real COS domains onto the emulator."""
    original = urllib3.util.connection.create_connection
    by_port = {80: PORTS["http"], 443: PORTS["https"]}

    def create_connection(address, *args, **kwargs):
        host, port = address
        if host in ("127.0.0.1", "localhost", "::1"):
            return original(address, *args, **kwargs)
        if (host.endswith(".myqcloud.com") or host.endswith(".tencentcos.cn")) and port in by_port:
            log.warning("harness: SDK connects to %s:%s (ignoring CosConfig IP/Port); "
                        "mapped to 127.0.0.1:%s", host, port, by_port[port])
            return original(("127.0.0.1", by_port[port]), *args, **kwargs)
        raise OSError(f"harness: refusing to connect to {host}:{port}; only 127.0.0.1 is allowed")

    urllib3.util.connection.create_connection = create_connection


def client(scheme, secret_id=SECRET_ID, secret_key=SECRET_KEY, region=REGION):
    """A client as the README tells users to point the SDK at the emulator."""
    config = CosConfig(Region=region, SecretId=secret_id, SecretKey=secret_key, Token=None,
                       Scheme=scheme, IP="127.0.0.1", Port=PORTS[scheme], VerifySSL=CA,
                       Timeout=60)
    # retry=0: one attempt, so a failure shows the emulator's first answer.
    return CosS3Client(config, retry=0)


def bucket_name(flow, scheme):
    return f"{flow.replace('_', '-')[:28]}-{scheme}-{APPID}"


def header(response, name):
    """A response header, looked up case-insensitively (response dicts keep wire case)."""
    for key, value in response.items():
        if key.lower() == name.lower():
            return value
    raise AssertionError(f"response has no {name} header; headers: {sorted(response)}")


def expect_error(status, codes, call, *args, **kwargs):
    """Run an SDK call that must be refused with `status` and one of `codes` (None: any)."""
    try:
        call(*args, **kwargs)
    except CosServiceError as e:
        got = e.get_status_code()
        code = e.get_error_code() if isinstance(e.get_digest_msg(), dict) else None
        assert got == status, f"expected HTTP {status} {codes}, got {got}: {describe(e)}"
        if codes is not None:
            assert code in codes, f"expected code {codes}, got {code!r}: {describe(e)}"
        return e
    raise AssertionError(f"expected HTTP {status} {codes}, but the call succeeded")


def describe(e):
    if isinstance(e, CosServiceError):
        digest = e.get_digest_msg()
        if isinstance(digest, dict):
            return (f"CosServiceError(status={e.get_status_code()}, code={digest.get('code')}, "
                    f"message={digest.get('message')!r}, resource={digest.get('resource')!r}, "
                    f"request_id={digest.get('requestid')!r}) raw={e.get_origin_msg()!r}")
        return f"CosServiceError(status={e.get_status_code()}, body not COS error XML: {digest!r})"
    return f"{type(e).__name__}: {e}"


def read_body(response):
    """The whole body of a get_object response, read as users do (StreamBody)."""
    return b"".join(response["Body"].get_stream(64 * 1024))


def ssec(secret):
    """SSE-C parameters exactly as seed 004 builds them from a 32-character secret."""
    return {"SSECustomerAlgorithm": "AES256",
            "SSECustomerKey": base64.standard_b64encode(to_bytes(secret)),
            "SSECustomerKeyMD5": get_md5(secret)}


def source_ssec(secret):
    return {"CopySource" + k: v for k, v in ssec(secret).items()}


def md5_etag(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


def local_file(name, data):
    path = os.path.join(WORKDIR, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def new_bucket(scheme, flow):
    c = client(scheme)
    bucket = bucket_name(flow, scheme)
    c.create_bucket(Bucket=bucket)
    return c, bucket


SEED_SECRET = "00000000000000000000000000000001"  # seed 004's SSE-C secret
SEED_DEST_SECRET = "00000000000000000000000000000002"  # seed 004's copy destination secret


# ---------------------------------------------------------------------------------------
# The core object store


def flow_bucket_lifecycle(scheme):
    """create_bucket, head_bucket, duplicate refused, non-empty delete refused, delete."""
    c = client(scheme)
    bucket = bucket_name("bucket_lifecycle", scheme)
    c.create_bucket(Bucket=bucket)
    c.head_bucket(Bucket=bucket)
    expect_error(409, None, c.create_bucket, Bucket=bucket)
    c.put_object(Bucket=bucket, Key="keep.txt", Body=b"x")
    expect_error(409, {"BucketNotEmpty"}, c.delete_bucket, Bucket=bucket)
    c.delete_object(Bucket=bucket, Key="keep.txt")
    c.delete_bucket(Bucket=bucket)
    expect_error(404, None, c.head_bucket, Bucket=bucket)


def flow_object_crud(scheme):
    """put/get/head/list/delete, with metadata, a UTF-8 key, Range and the CRC-64 header."""
    c, bucket = new_bucket(scheme, "object_crud")
    data = b"hello from the official COS Python SDK\n" * 100
    odd_key = "dir/子 目录/a b+c%20~.txt"
    put = c.put_object(Bucket=bucket, Key="dir/plain.txt", Body=data, ContentType="text/plain",
                       Metadata={"x-cos-meta-author": "sdk interop"}, EnableMD5=True)
    assert header(put, "ETag") == md5_etag(data), put
    c.put_object(Bucket=bucket, Key=odd_key, Body=b"odd")

    got = c.get_object(Bucket=bucket, Key="dir/plain.txt")
    assert read_body(got) == data
    assert header(got, "Content-Type") == "text/plain", got
    assert header(got, "x-cos-meta-author") == "sdk interop", got
    assert header(got, "ETag") == md5_etag(data), got
    assert header(got, "x-cos-hash-crc64ecma") == str(CRC64(data)), got
    assert read_body(c.get_object(Bucket=bucket, Key=odd_key)) == b"odd"

    part = c.get_object(Bucket=bucket, Key="dir/plain.txt", Range="bytes=6-9")
    assert read_body(part) == data[6:10], part
    assert header(part, "Content-Range") == f"bytes 6-9/{len(data)}", part

    head = c.head_object(Bucket=bucket, Key="dir/plain.txt")
    assert int(header(head, "Content-Length")) == len(data), head
    assert header(head, "x-cos-meta-author") == "sdk interop", head

    listing = c.list_objects(Bucket=bucket, Prefix="dir/")
    keys = sorted(item["Key"] for item in listing.get("Contents", []))
    assert keys == sorted(["dir/plain.txt", odd_key]), listing
    sizes = {item["Key"]: int(item["Size"]) for item in listing["Contents"]}
    assert sizes["dir/plain.txt"] == len(data), listing
    folders = c.list_objects(Bucket=bucket, Prefix="dir/", Delimiter="/")
    prefixes = [p["Prefix"] for p in folders.get("CommonPrefixes", [])]
    assert prefixes == ["dir/子 目录/"], folders
    assert [item["Key"] for item in folders.get("Contents", [])] == ["dir/plain.txt"], folders

    c.delete_object(Bucket=bucket, Key="dir/plain.txt")
    expect_error(404, None, c.head_object, Bucket=bucket, Key="dir/plain.txt")
    expect_error(404, {"NoSuchKey"}, c.get_object, Bucket=bucket, Key="dir/plain.txt")
    listing = c.list_objects(Bucket=bucket, Prefix="dir/")
    assert [item["Key"] for item in listing.get("Contents", [])] == [odd_key], listing


def flow_list_buckets(scheme):
    """list_buckets (GET Service). The SDK sends it to service.cos.myqcloud.com whatever
    IP/Port say, so it reaches the emulator through the harness' mapping."""
    c, bucket = new_bucket(scheme, "list_buckets")
    listing = c.list_buckets()
    buckets = listing["Buckets"]["Bucket"]
    buckets = buckets if isinstance(buckets, list) else [buckets]
    mine = [b for b in buckets if b["Name"] == bucket]
    assert len(mine) == 1, listing
    assert mine[0]["Location"] == REGION, listing


def flow_presigned_put_get(scheme):
    """get_presigned_url for PUT and GET, used by a plain HTTP client (requests).

    The URL is made by a client on the real domain (as a user hands it out): with
    CosConfig(IP, Port) the SDK would write http://127.0.0.1:PORT/<key> with no bucket in it
    and sign host=127.0.0.1, a URL no server can route. The harness maps the domain to the
    emulator."""
    c, bucket = new_bucket(scheme, "presigned")
    domain_client = CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID,
                                          SecretKey=SECRET_KEY, Scheme=scheme), retry=0)
    data = b"uploaded through a presigned URL"
    key = "shared/a file+1.txt"
    put_url = domain_client.get_presigned_url(Bucket=bucket, Key=key, Method="PUT", Expired=300)
    r = requests.put(put_url, data=data, verify=CA, timeout=60)
    assert r.status_code == 200, (r.status_code, r.text)
    get_url = domain_client.get_presigned_url(Bucket=bucket, Key=key, Method="GET", Expired=300)
    r = requests.get(get_url, verify=CA, timeout=60)
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.content == data
    assert read_body(c.get_object(Bucket=bucket, Key=key)) == data
    # A well-formed but wrong signature (one hex digit changed) is refused.
    signature = get_url.split("q-signature=", 1)[1][:40]
    forged = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    r = requests.get(get_url.replace(signature, forged), verify=CA, timeout=60)
    assert r.status_code == 403, (r.status_code, r.text)
    assert "<Code>SignatureDoesNotMatch</Code>" in r.text, r.text


def flow_wrong_secret_refused(scheme):
    """A wrong SecretKey and an unknown SecretId are refused; nothing is written."""
    c, bucket = new_bucket(scheme, "wrong_secret")
    wrong_key = client(scheme, secret_key=SECRET_KEY + "-wrong")
    expect_error(403, {"SignatureDoesNotMatch"}, wrong_key.put_object, Bucket=bucket,
                 Key="intruder.txt", Body=b"x")
    unknown_id = client(scheme, secret_id="AKIDUNKNOWN00000000000000000000000000")
    expect_error(403, {"InvalidAccessKeyId"}, unknown_id.get_object, Bucket=bucket, Key="x")
    expect_error(404, None, c.head_object, Bucket=bucket, Key="intruder.txt")


def flow_https_certificate_verified(scheme):
    """The HTTPS flows verify the emulator's certificate: without trusting cert_path() (the
    SDK's default, the certifi bundle) the same request fails certificate verification."""
    assert scheme == "https"
    untrusting = CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY,
                                       Scheme=scheme, IP="127.0.0.1", Port=PORTS[scheme]),
                             retry=0)
    try:
        untrusting.list_objects(Bucket=bucket_name("https_certificate", scheme))
    except CosClientError as e:
        assert "CERTIFICATE_VERIFY_FAILED" in str(e), describe(e)
        return
    raise AssertionError("a client that does not trust the emulator's certificate got through")


# ---------------------------------------------------------------------------------------
# Seed 004's SSE-COS, SSE-KMS and SSE-C samples


def flow_sse_cos(scheme):
    """Seed 004, SSE-COS: put_object with ServerSideEncryption='AES256', get_object without."""
    c, bucket = new_bucket(scheme, "sse_cos")
    response = c.put_object(Bucket=bucket, Key="sdk-sse-cos", Body="123",
                            ServerSideEncryption="AES256")
    # The sample prints response['x-cos-server-side-encryption']: exact, lower-case key.
    assert response["x-cos-server-side-encryption"] == "AES256", response
    response = c.get_object(Bucket=bucket, Key="sdk-sse-cos")
    assert response["x-cos-server-side-encryption"] == "AES256", response
    assert read_body(response) == b"123"
    response = c.head_object(Bucket=bucket, Key="sdk-sse-cos")
    assert response["x-cos-server-side-encryption"] == "AES256", response
    assert int(header(response, "Content-Length")) == 3, response


def flow_sse_kms(scheme):
    """Seed 004, SSE-KMS: put with cos/kms and a base64 JSON context, get without headers.

    The sample's SSEKMSKeyId='kms-key-id' is a placeholder for the user's CMK: the flow
    first uploads without a key id (the sample's comment: the default CMK is used), then
    repeats the sample's call with the CMK id the emulator reported."""
    c, bucket = new_bucket(scheme, "sse_kms")
    # The sample imports to_byte but calls to_bytes (a NameError as printed); to_bytes it is.
    context = base64.standard_b64encode(to_bytes('{"test":"test"}'))
    response = c.put_object(Bucket=bucket, Key="sdk-sse-kms", Body="123",
                            ServerSideEncryption="cos/kms", SSEKMSContext=context)
    assert response["x-cos-server-side-encryption"] == "cos/kms", response
    key_id = response["x-cos-server-side-encryption-cos-kms-key-id"]
    assert key_id, response
    response = c.put_object(Bucket=bucket, Key="sdk-sse-kms", Body="123",
                            ServerSideEncryption="cos/kms", SSEKMSKeyId=key_id,
                            SSEKMSContext=context)
    assert response["x-cos-server-side-encryption"] == "cos/kms", response
    assert response["x-cos-server-side-encryption-cos-kms-key-id"] == key_id, response
    response = c.get_object(Bucket=bucket, Key="sdk-sse-kms")
    assert response["x-cos-server-side-encryption"] == "cos/kms", response
    assert response["x-cos-server-side-encryption-cos-kms-key-id"] == key_id, response
    assert read_body(response) == b"123"
    response = c.head_object(Bucket=bucket, Key="sdk-sse-kms")
    assert response["x-cos-server-side-encryption"] == "cos/kms", response


def flow_sse_kms_unknown_key_refused(scheme):
    """The sample's literal SSEKMSKeyId='kms-key-id' names no CMK: refused, nothing stored."""
    c, bucket = new_bucket(scheme, "sse_kms_unknown")
    expect_error(400, {"KmsKeyNotExist"}, c.put_object, Bucket=bucket, Key="sdk-sse-kms",
                 Body="123", ServerSideEncryption="cos/kms", SSEKMSKeyId="kms-key-id")
    expect_error(404, None, c.head_object, Bucket=bucket, Key="sdk-sse-kms")


def flow_sse_c(scheme):
    """Seed 004, SSE-C: put/get/head with the sample's key; without it or with another, refused."""
    c, bucket = new_bucket(scheme, "sse_c")
    key = ssec(SEED_SECRET)
    response = c.put_object(Bucket=bucket, Key="sdk-sse-c", Body="00000", **key)
    assert response["x-cos-server-side-encryption-customer-algorithm"] == "AES256", response
    # COS spells it ...-key-MD5; looked up case-insensitively (the emulator sends it lower-case).
    assert header(response, "x-cos-server-side-encryption-customer-key-MD5") == \
        key["SSECustomerKeyMD5"].decode(), response
    response = c.get_object(Bucket=bucket, Key="sdk-sse-c", **key)
    assert response["x-cos-server-side-encryption-customer-algorithm"] == "AES256", response
    assert read_body(response) == b"00000"
    response = c.head_object(Bucket=bucket, Key="sdk-sse-c", **key)
    assert response["x-cos-server-side-encryption-customer-algorithm"] == "AES256", response
    expect_error(400, {"InvalidRequest"}, c.get_object, Bucket=bucket, Key="sdk-sse-c")
    expect_error(403, {"AccessDenied"}, c.get_object, Bucket=bucket, Key="sdk-sse-c",
                 **ssec(SEED_DEST_SECRET))


def flow_sse_c_refused_over_http(scheme):
    """SSE-C over plain HTTP is refused (SSEC-HTTPS) and stores nothing."""
    c, bucket = new_bucket(scheme, "sse_c_http")
    expect_error(400, {"InvalidRequest"}, c.put_object, Bucket=bucket, Key="sdk-sse-c",
                 Body="00000", **ssec(SEED_SECRET))
    expect_error(404, None, c.head_object, Bucket=bucket, Key="sdk-sse-c")


# ---------------------------------------------------------------------------------------
# Seed 004's advanced-API calls (multipart, resumable download, copy, restore)


def upload_then_download(c, bucket, key, download_extra, **sse):
    """upload_file (multipart: 3 parts) then download_file (ranged parts, CRC-64 checked)."""
    source = local_file(key + ".local", BIG)
    c.upload_file(Bucket=bucket, Key=key, LocalFilePath=source, PartSize=1, **sse)
    head = c.head_object(Bucket=bucket, Key=key, **download_extra)
    assert int(header(head, "Content-Length")) == len(BIG), head
    assert header(head, "x-cos-hash-crc64ecma") == str(CRC64(BIG)), head
    assert header(head, "ETag").strip('"').endswith("-3"), head
    dest = os.path.join(WORKDIR, key + ".downloaded")
    # PartSize=1 (MB) makes download_file use its resumable, ranged downloader; EnableCRC
    # makes it compare the CRC-64 of the file with x-cos-hash-crc64ecma.
    c.download_file(Bucket=bucket, Key=key, DestFilePath=dest, PartSize=1, EnableCRC=True,
                    DumpRecordDir=WORKDIR, **download_extra)
    with open(dest, "rb") as f:
        assert f.read() == BIG, "download_file returned different bytes"
    return head


def flow_download_file_plain(scheme):
    """download_file of a small plain object (one GET after a HEAD, no multipart, no SSE).

    The SDK reads head_object()'s plain dict with exact-case keys ('Content-Length'; for
    the ranged path also 'ETag', 'Last-Modified'), so the emulator must send those names
    in COS's case."""
    c, bucket = new_bucket(scheme, "download_plain")
    data = b"small object for download_file"
    c.put_object(Bucket=bucket, Key="small.txt", Body=data)
    dest = os.path.join(WORKDIR, "small.txt.downloaded")
    c.download_file(Bucket=bucket, Key="small.txt", DestFilePath=dest, DumpRecordDir=WORKDIR)
    with open(dest, "rb") as f:
        assert f.read() == data, "download_file returned different bytes"


def flow_upload_download_file_kms(scheme):
    """Seed 004: upload_file / download_file with ServerSideEncryption='cos/kms'."""
    c, bucket = new_bucket(scheme, "updown_kms")
    head = upload_then_download(c, bucket, "sdk-sse-kms", {}, ServerSideEncryption="cos/kms")
    assert head["x-cos-server-side-encryption"] == "cos/kms", head


def flow_upload_download_file_sse_c(scheme):
    """Seed 004: upload_file / download_file with the SSE-C key on every part and range."""
    c, bucket = new_bucket(scheme, "updown_sse_c")
    key = ssec(SEED_SECRET)
    head = upload_then_download(c, bucket, "sdk-sse-c", key, **key)
    assert head["x-cos-server-side-encryption-customer-algorithm"] == "AES256", head


def copy_source(bucket, key):
    return {"Bucket": bucket, "Key": key, "Region": REGION}


def assert_only_key_opens(c, bucket, key, right, wrong, data):
    assert read_body(c.get_object(Bucket=bucket, Key=key, **right)) == data
    expect_error(403, {"AccessDenied"}, c.get_object, Bucket=bucket, Key=key, **wrong)


def flow_copy_object_sse_c(scheme):
    """Seed 004: copy_object from SSE-C key 1 to SSE-C key 2."""
    c, bucket = new_bucket(scheme, "copy_object_sse_c")
    c.put_object(Bucket=bucket, Key="sdk-sse-c", Body="00000", **ssec(SEED_SECRET))
    response = c.copy_object(Bucket=bucket, Key="sdk-sse-c-copy",
                             CopySource=copy_source(bucket, "sdk-sse-c"),
                             **ssec(SEED_DEST_SECRET), **source_ssec(SEED_SECRET))
    assert response["ETag"] == md5_etag(b"00000"), response
    assert_only_key_opens(c, bucket, "sdk-sse-c-copy", ssec(SEED_DEST_SECRET),
                          ssec(SEED_SECRET), b"00000")


def flow_copy_sse_c(scheme):
    """Seed 004: the advanced copy() (HEAD of the source, then copy_object), SSE-C 1 -> 2."""
    c, bucket = new_bucket(scheme, "copy_sse_c")
    c.put_object(Bucket=bucket, Key="sdk-sse-c", Body="00000", **ssec(SEED_SECRET))
    c.copy(Bucket=bucket, Key="sdk-sse-c-copy", CopySource=copy_source(bucket, "sdk-sse-c"),
           MAXThread=2, **ssec(SEED_DEST_SECRET), **source_ssec(SEED_SECRET))
    assert_only_key_opens(c, bucket, "sdk-sse-c-copy", ssec(SEED_DEST_SECRET),
                          ssec(SEED_SECRET), b"00000")


def flow_copy_multipart_sse_c(scheme):
    """copy() taking its multipart path (upload_part_copy with ranges), SSE-C 1 -> 2.

    copy() uses upload_part_copy when the destination storage class differs and the source
    is at least the copy threshold; the threshold is lowered to 1 MiB to get there."""
    c, bucket = new_bucket(scheme, "copy_multipart_sse_c")
    c.get_conf().set_copy_part_threshold_size(1024 * 1024)
    c.put_object(Bucket=bucket, Key="big-source", Body=BIG, **ssec(SEED_SECRET))
    c.copy(Bucket=bucket, Key="big-copy", CopySource=copy_source(bucket, "big-source"),
           PartSize=1, MAXThread=2, StorageClass="STANDARD_IA",
           **ssec(SEED_DEST_SECRET), **source_ssec(SEED_SECRET))
    head = c.head_object(Bucket=bucket, Key="big-copy", **ssec(SEED_DEST_SECRET))
    assert header(head, "x-cos-storage-class") == "STANDARD_IA", head
    assert header(head, "x-cos-hash-crc64ecma") == str(CRC64(BIG)), head
    assert_only_key_opens(c, bucket, "big-copy", ssec(SEED_DEST_SECRET), ssec(SEED_SECRET), BIG)


def flow_restore_object_sse_c(scheme):
    """Seed 004: restore_object of an SSE-C object, with the SSE-C headers (SSEC-RESTORE).

    The sample restores 'sdk-sse-c', a STANDARD object; a restore is meaningful for an
    archived one, so the object is uploaded as ARCHIVE (ARCHIVE-PUT-WITH-SSE, accepted by
    default). The emulator runs with restore_delay 0."""
    c, bucket = new_bucket(scheme, "restore_sse_c")
    key = ssec(SEED_SECRET)
    c.put_object(Bucket=bucket, Key="sdk-sse-c", Body="00000", StorageClass="ARCHIVE", **key)
    expect_error(403, {"InvalidObjectState"}, c.get_object, Bucket=bucket, Key="sdk-sse-c", **key)
    c.restore_object(Bucket=bucket, Key="sdk-sse-c",
                     RestoreRequest={"Days": 1, "CASJobParameters": {"Tier": "Expedited"}}, **key)
    deadline = time.monotonic() + 30
    while True:
        head = c.head_object(Bucket=bucket, Key="sdk-sse-c", **key)
        restore = header(head, "x-cos-restore")
        if 'ongoing-request="false"' in restore:
            break
        assert 'ongoing-request="true"' in restore, head
        assert time.monotonic() < deadline, f"restore still ongoing after 30 s: {head}"
        time.sleep(0.2)
    assert "expiry-date=" in restore, head
    assert read_body(c.get_object(Bucket=bucket, Key="sdk-sse-c", **key)) == b"00000"


# ---------------------------------------------------------------------------------------
# What the SDK calls in ordinary code: upload_part_copy, delete_objects, get_bucket_location,
# put_object_acl with a grant, an anonymous client

OTHER_SECRET_ID = ENV.get("COS_INTEROP_OTHER_SECRET_ID", "")
OTHER_SECRET_KEY = ENV.get("COS_INTEROP_OTHER_SECRET_KEY", "")
OTHER_UIN = ENV.get("COS_INTEROP_OTHER_APPID", "")


def anonymous_client(scheme):
    """CosConfig(Anonymous=True): the SDK then sends an empty `Authorization:`."""
    config = CosConfig(Region=REGION, Anonymous=True, Scheme=scheme, IP="127.0.0.1",
                       Port=PORTS[scheme], VerifySSL=CA, Timeout=60)
    return CosS3Client(config, retry=0)


def flow_upload_part_copy(scheme):
    """upload_part_copy without CopySourceRange (the SDK then sends an empty
    x-cos-copy-source-range: the whole source is the part), then with a range."""
    c, bucket = new_bucket(scheme, "upload_part_copy")
    c.put_object(Bucket=bucket, Key="source", Body=BIG)
    upload = c.create_multipart_upload(Bucket=bucket, Key="copy")["UploadId"]
    source = copy_source(bucket, "source")
    whole = c.upload_part_copy(Bucket=bucket, Key="copy", PartNumber=1, UploadId=upload,
                               CopySource=source)
    assert whole["ETag"] == md5_etag(BIG), whole
    tail = c.upload_part_copy(Bucket=bucket, Key="copy", PartNumber=2, UploadId=upload,
                              CopySource=source, CopySourceRange="bytes=0-99")
    assert tail["ETag"] == md5_etag(BIG[:100]), tail
    c.complete_multipart_upload(Bucket=bucket, Key="copy", UploadId=upload, MultipartUpload={
        "Part": [{"PartNumber": 1, "ETag": whole["ETag"]},
                 {"PartNumber": 2, "ETag": tail["ETag"]}]})
    assert read_body(c.get_object(Bucket=bucket, Key="copy")) == BIG + BIG[:100]


def flow_delete_objects(scheme):
    """delete_objects, verbose and Quiet, an SSE-C object deleted without its key; the SDK
    sends the Content-MD5 the API requires."""
    c, bucket = new_bucket(scheme, "delete_objects")
    for key in ("a", "b", "c"):
        c.put_object(Bucket=bucket, Key=key, Body=b"body " + key.encode())
    c.put_object(Bucket=bucket, Key="sse-c", Body=b"secret", **ssec(SEED_SECRET))
    verbose = c.delete_objects(Bucket=bucket, Delete={
        "Quiet": "false", "Object": [{"Key": "a"}, {"Key": "sse-c"}, {"Key": "missing"}]})
    assert sorted(d["Key"] for d in verbose.get("Deleted", [])) == ["a", "missing", "sse-c"], \
        verbose
    assert not verbose.get("Error"), verbose
    quiet = c.delete_objects(Bucket=bucket, Delete={
        "Quiet": "true", "Object": [{"Key": "b"}, {"Key": "c"}]})
    assert not quiet.get("Deleted") and not quiet.get("Error"), quiet
    listed = c.list_objects(Bucket=bucket)
    assert not listed.get("Contents"), listed


def flow_get_bucket_location(scheme):
    """get_bucket_location (`GET /?location=`) names the bucket's region."""
    c, bucket = new_bucket(scheme, "get_bucket_location")
    assert c.get_bucket_location(Bucket=bucket) == {"LocationConstraint": REGION}


def flow_bucket_encryption(scheme):
    """put_bucket_encryption / get_bucket_encryption / delete_bucket_encryption, each
    followed by an upload without SSE parameters whose echo shows the bucket's default
    (BUCKET-ENC-APPLY): SM4, then KMS (replacing it), then none after the delete."""
    c, bucket = new_bucket(scheme, "bucket_encryption")
    expect_error(404, {"NoSuchEncryptionConfiguration"}, c.get_bucket_encryption, Bucket=bucket)

    def default_is(key, echo):
        response = c.put_object(Bucket=bucket, Key=key, Body=b"by default")
        assert response.get("x-cos-server-side-encryption") == echo, response
        response = c.head_object(Bucket=bucket, Key=key)
        assert response.get("x-cos-server-side-encryption") == echo, response
        response = c.get_object(Bucket=bucket, Key=key)
        assert response.get("x-cos-server-side-encryption") == echo, response
        assert read_body(response) == b"by default"

    c.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rule": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "SM4"}}]})
    got = c.get_bucket_encryption(Bucket=bucket)
    assert got["Rule"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "SM4", got
    default_is("sm4", "SM4")
    # The SDK's own test sends the misspelled container (BUCKET-ENC-ALIAS `alias`).
    c.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rule": [{"ApplySideEncryptionConfiguration": {"SSEAlgorithm": "KMS"}}]})
    got = c.get_bucket_encryption(Bucket=bucket)
    assert got["Rule"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "KMS", got
    default_is("kms", "cos/kms")
    c.delete_bucket_encryption(Bucket=bucket)
    expect_error(404, {"NoSuchEncryptionConfiguration"}, c.get_bucket_encryption, Bucket=bucket)
    default_is("plain", None)
    # Objects written under a default keep it.
    response = c.head_object(Bucket=bucket, Key="sm4")
    assert response.get("x-cos-server-side-encryption") == "SM4", response


def flow_put_object_acl_grant(scheme):
    """put_object_acl with GrantRead naming another account: that account reads the object
    (SSE-KMS) with its own signature, get_object_acl returns the grant, an anonymous read
    is still refused (KMS-ANON)."""
    c, bucket = new_bucket(scheme, "put_object_acl_grant")
    c.put_object(Bucket=bucket, Key="kms", Body=b"granted", ServerSideEncryption="cos/kms")
    other = client(scheme, OTHER_SECRET_ID, OTHER_SECRET_KEY)
    expect_error(403, ["AccessDenied"], other.get_object, Bucket=bucket, Key="kms")
    grantee = f"qcs::cam::uin/{OTHER_UIN}:uin/{OTHER_UIN}"
    c.put_object_acl(Bucket=bucket, Key="kms", GrantRead=f'id="{grantee}"')
    acl = c.get_object_acl(Bucket=bucket, Key="kms")
    grants = acl["AccessControlList"]["Grant"]
    grants = grants if isinstance(grants, list) else [grants]
    assert {"READ", "FULL_CONTROL"} == {g["Permission"] for g in grants}, acl
    assert any(g["Grantee"].get("ID") == grantee and g["Permission"] == "READ"
               for g in grants), acl
    assert read_body(other.get_object(Bucket=bucket, Key="kms")) == b"granted"
    expect_error(403, ["AccessDenied"], anonymous_client(scheme).get_object,
                 Bucket=bucket, Key="kms")


def flow_anonymous_get_public_read(scheme):
    """CosConfig(Anonymous=True) reads a public-read object (the SDK sends an empty
    Authorization header) and is refused a private one."""
    c, bucket = new_bucket(scheme, "anonymous_get_public_read")
    c.put_object(Bucket=bucket, Key="public", Body=b"for everyone", ACL="public-read")
    c.put_object(Bucket=bucket, Key="private", Body=b"not for everyone")
    anon = anonymous_client(scheme)
    assert read_body(anon.get_object(Bucket=bucket, Key="public")) == b"for everyone"
    expect_error(403, ["AccessDenied"], anon.get_object, Bucket=bucket, Key="private")


FLOWS = {name[len("flow_"):]: f for name, f in globals().items() if name.startswith("flow_")}


def run(flow, scheme):
    started = time.monotonic()
    try:
        FLOWS[flow](scheme)
        ok, error = True, None
    except (AssertionError, CosServiceError, CosClientError, Exception) as e:  # noqa: B014
        ok = False
        error = f"{describe(e)}\n{traceback.format_exc()}"
    result = {"flow": flow, "ok": ok, "seconds": round(time.monotonic() - started, 3),
              "error": error}
    print("@@RESULT " + json.dumps(result), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheme", choices=("http", "https"), required=True)
    parser.add_argument("flows", nargs="+")
    args = parser.parse_args()
    unknown = [f for f in args.flows if f not in FLOWS]
    if unknown:
        print(f"unknown flows {unknown}; known: {sorted(FLOWS)}", file=sys.stderr)
        sys.exit(2)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(name)s %(levelname)s %(message)s")
    sdk_level = logging.DEBUG if ENV.get("COS_INTEROP_DEBUG") == "1" else logging.CRITICAL
    logging.getLogger("qcloud_cos").setLevel(sdk_level)
    loopback_only()
    print("@@SDK " + importlib.metadata.version("cos-python-sdk-v5"), flush=True)
    for flow in args.flows:
        run(flow, args.scheme)


if __name__ == "__main__":
    main()
