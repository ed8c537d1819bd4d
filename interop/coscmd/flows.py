"""coscmd (PyPI, pinned in scripts/requirements-coscmd.txt) against the emulator: can it send
SSE headers? It can: `upload` and `download` take `-H "<YAML dict of HTTP headers>"`. These
flows upload and download with SSE-COS and SSE-C through the coscmd command line, exactly as
a user types it, and check the stored object's encryption with the Python SDK.

Driven by emulator/tests/node_interop.rs's sibling emulator/tests/coscmd_interop.rs, which
starts the emulator and sets COS_SECRET_ID, COS_SECRET_KEY, COS_INTEROP_APPID,
COS_INTEROP_REGION, COS_INTEROP_HTTPS_PORT, COS_INTEROP_WORKDIR and REQUESTS_CA_BUNDLE (the
emulator's certificate: TLS stays verified). Prints `@@SDK coscmd <version>` and one
`@@RESULT {json}` line per flow.

Connections: coscmd is configured with endpoint `cos.<region>.myqcloud.com:<port>`; every
*.myqcloud.com name resolves to 127.0.0.1 (socket.getaddrinfo below), any other name is
refused. `python flows.py --coscmd ARGS...` runs coscmd itself under that patch.
"""

import ast
import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from importlib.metadata import version

_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):
    if isinstance(host, bytes):
        host = host.decode()
    if host.endswith(".myqcloud.com") or host in ("127.0.0.1", "localhost"):
        return _real_getaddrinfo("127.0.0.1", *args, **kwargs)
    raise OSError(f"harness: refusing to resolve {host}; only the emulator is allowed")


socket.getaddrinfo = _getaddrinfo

if len(sys.argv) > 1 and sys.argv[1] == "--coscmd":
    from coscmd import cos_cmd

    sys.argv = ["coscmd"] + sys.argv[2:]
    sys.exit(cos_cmd._main())

from qcloud_cos import CosConfig, CosS3Client, CosServiceError  # noqa: E402

SECRET_ID = os.environ["COS_SECRET_ID"]
SECRET_KEY = os.environ["COS_SECRET_KEY"]
APPID = os.environ["COS_INTEROP_APPID"]
REGION = os.environ["COS_INTEROP_REGION"]
PORT = os.environ["COS_INTEROP_HTTPS_PORT"]
WORK = os.environ["COS_INTEROP_WORKDIR"]
ENDPOINT = f"cos.{REGION}.myqcloud.com:{PORT}"

KEY = b"0123456789ABCDEF0123456789ABCDEF"
SSEC = {
    "x-cos-server-side-encryption-customer-algorithm": "AES256",
    "x-cos-server-side-encryption-customer-key": base64.b64encode(KEY).decode(),
    "x-cos-server-side-encryption-customer-key-MD5": base64.b64encode(hashlib.md5(KEY).digest()).decode(),
}

sdk = CosS3Client(CosConfig(Region=REGION, SecretId=SECRET_ID, SecretKey=SECRET_KEY, Scheme="https",
                            Endpoint=ENDPOINT), retry=0)


def new_bucket(tag):
    bucket = f"coscmd-{tag}-{APPID}"
    sdk.create_bucket(Bucket=bucket)
    conf = os.path.join(WORK, f"{tag}.conf")
    with open(conf, "w") as f:
        f.write(f"[common]\nsecret_id = {SECRET_ID}\nsecret_key = {SECRET_KEY}\nbucket = {bucket}\n"
                f"region = {REGION}\nendpoint = {ENDPOINT}\nschema = https\nmax_thread = 2\n"
                f"part_size = 1\nretry = 0\ntimeout = 60\nverify = md5\nanonymous = False\n")
    return bucket, conf


def coscmd(conf, *args):
    """Runs coscmd as a user would (with the DNS patch); returns (exit status, output)."""
    p = subprocess.run([sys.executable, __file__, "--coscmd", "-c", conf, *args],
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


def write(name, data):
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


def yaml_headers(headers):
    return json.dumps(headers)  # JSON is YAML; coscmd parses -H with yaml.safe_load


def flow_upload_download_sse_cos():
    bucket, conf = new_bucket("sse-cos")
    data = b"coscmd says hello, encrypted by COS"
    src = write("sse-cos.txt", data)
    status, out = coscmd(conf, "upload", "-H", yaml_headers({"x-cos-server-side-encryption": "AES256"}),
                         src, "docs/sse-cos.txt")
    assert status == 0, out
    head = sdk.head_object(Bucket=bucket, Key="docs/sse-cos.txt")
    assert head.get("x-cos-server-side-encryption") == "AES256", head
    dst = os.path.join(WORK, "sse-cos.out")
    status, out = coscmd(conf, "download", "docs/sse-cos.txt", dst)
    assert status == 0, out
    assert read(dst) == data


def flow_upload_sse_c():
    bucket, conf = new_bucket("sse-c")
    data = b"coscmd says hello, under the customer's key"
    src = write("sse-c.txt", data)
    status, out = coscmd(conf, "upload", "-H", yaml_headers(SSEC), src, "docs/sse-c.txt")
    assert status == 0, out
    # Read back with the SDK and the same key: stored under it, not in clear.
    got = sdk.get_object(Bucket=bucket, Key="docs/sse-c.txt", SSECustomerAlgorithm="AES256",
                         SSECustomerKey=SSEC["x-cos-server-side-encryption-customer-key"],
                         SSECustomerKeyMD5=SSEC["x-cos-server-side-encryption-customer-key-MD5"])
    assert got.get("x-cos-server-side-encryption-customer-algorithm") == "AES256", got
    assert got["Body"].get_raw_stream().read() == data


def flow_download_sse_c_without_key_refused():
    bucket, conf = new_bucket("sse-c-nokey")
    data = b"coscmd: no key, no plaintext"
    src = write("sse-c-nokey.txt", data)
    status, out = coscmd(conf, "upload", "-H", yaml_headers(SSEC), src, "k.txt")
    assert status == 0, out
    dst = os.path.join(WORK, "sse-c-nokey.out")
    status, out = coscmd(conf, "download", "k.txt", dst)
    assert status != 0, f"a refused download exited 0:\n{out}"
    assert not os.path.exists(dst) or read(dst) != data, "the plaintext was written without the key"


# KNOWN CLIENT DEFECT (coscmd 1.9.0.6, cos_client.py download_file): before downloading,
# coscmd HEADs the object for its size WITHOUT the -H headers, so an SSE-C object is
# refused there (400, no key) and `coscmd download -H <SSE-C headers>` always fails.
# Pinned by its exact signature, so that a real SSE-C read regression cannot pass as the
# defect: coscmd's only output is the header dict it logs for a refusal without a body (a
# HEAD's; a GET's refusal has an XML body, digested to code and message); the same HEAD
# without the key is refused with 400; and with the key, the HEAD gives the size and the
# GET the plaintext. The flow reports `defect-fixed` once the download succeeds.
def flow_download_sse_c_known_defect():
    bucket, conf = new_bucket("sse-c-download")
    data = b"coscmd: download with the key"
    src = write("sse-c-download.txt", data)
    status, out = coscmd(conf, "upload", "-H", yaml_headers(SSEC), src, "k.txt")
    assert status == 0, out
    dst = os.path.join(WORK, "sse-c-download.out")
    status, out = coscmd(conf, "download", "-H", yaml_headers(SSEC), "k.txt", dst)
    if status == 0:
        assert read(dst) == data
        return {"outcome": "defect-fixed", "detail": "coscmd downloads SSE-C objects now: remove the pin"}
    assert not os.path.exists(dst), "a failed download left a file behind"
    # The SDK logs the refusal's headers, then coscmd logs them again: one request, one id.
    dicts = [ast.literal_eval(line) for line in out.splitlines() if line.startswith("{")]
    ids = {d.get("x-cos-request-id") for d in dicts}
    assert dicts and len(ids) == 1 and None not in ids and all("code" not in d for d in dicts), \
        f"not (only) the body-less refusal of coscmd's size HEAD:\n{out}"
    try:
        sdk.head_object(Bucket=bucket, Key="k.txt")
        raise AssertionError("a HEAD of an SSE-C object without the key was answered")
    except CosServiceError as e:
        assert e.get_status_code() == 400, f"keyless HEAD: {e.get_status_code()} {e}"
    sse_c = {"SSECustomerAlgorithm": "AES256",
             "SSECustomerKey": SSEC["x-cos-server-side-encryption-customer-key"],
             "SSECustomerKeyMD5": SSEC["x-cos-server-side-encryption-customer-key-MD5"]}
    head = sdk.head_object(Bucket=bucket, Key="k.txt", **sse_c)
    assert int(head["Content-Length"]) == len(data), head
    got = sdk.get_object(Bucket=bucket, Key="k.txt", **sse_c)
    assert got["Body"].get_raw_stream().read() == data, "the SSE-C GET with the key"
    return {"outcome": "known-defect",
            "detail": "download -H <SSE-C headers> fails: its size HEAD carries no key (400); "
                      "HEAD and GET with the key work"}


FLOWS = {name[len("flow_"):]: fn for name, fn in globals().items() if name.startswith("flow_")}


def main():
    print(f"@@SDK coscmd {version('coscmd')}", flush=True)
    for name in sys.argv[1:]:
        start = time.monotonic()
        try:
            found = FLOWS[name]() or {}
            outcome = found.get("outcome", "pass")
            result = {"ok": outcome != "defect-fixed", "outcome": outcome, "detail": found.get("detail", "")}
        except Exception as e:  # the flow's assertion or the SDK's error, reported as is
            result = {"ok": False, "outcome": "fail", "detail": f"{type(e).__name__}: {e}"}
        result.update(flow=name, seconds=time.monotonic() - start)
        print("@@RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
