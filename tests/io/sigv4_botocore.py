#!/usr/bin/python3
"""Signs requests with botocore's S3SigV4Auth, the reference the S3 store's
signatures are compared with (tests/io/test_s3.c). Run with Debian's
/usr/bin/python3 (python3-botocore).

stdin: a JSON array of items, one output line each:
  {"sign": {"method", "url", "headers": [[name, value]...], "body": hex,
            "date": "YYYYMMDDTHHMMSSZ", "region", "access_key",
            "secret_key", "token" (optional)}}
      -> the Authorization header botocore computes at that date
  {"path": KEY}      -> KEY as botocore's S3 client puts it in a URL path
  {"query": [[name, value]...]} -> the canonical query string botocore's
                        serializer and signer make of those parameters
Exit 77 when botocore cannot be imported (the test then skips).
"""
import datetime
import json
import sys
from unittest import mock

try:
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    import botocore.utils
except ImportError as e:
    print(f"botocore missing: {e}", file=sys.stderr)
    sys.exit(77)


def sign(r):
    creds = botocore.credentials.Credentials(
        r["access_key"], r["secret_key"], r.get("token"))
    auth = botocore.auth.S3SigV4Auth(creds, "s3", r["region"])
    req = botocore.awsrequest.AWSRequest(
        method=r["method"], url=r["url"], data=bytes.fromhex(r["body"]))
    for name, value in r["headers"]:
        req.headers[name] = value
    when = datetime.datetime.strptime(r["date"], "%Y%m%dT%H%M%SZ")

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

    with mock.patch("botocore.auth.datetime.datetime", Frozen):
        auth.add_auth(req)
    return req.headers["Authorization"]


def main():
    for item in json.load(sys.stdin):
        if "sign" in item:
            print(sign(item["sign"]))
        elif "path" in item:
            print(botocore.utils.percent_encode(item["path"], safe="/~"))
        else:
            pairs = sorted((botocore.utils.percent_encode(k),
                            botocore.utils.percent_encode(v))
                           for k, v in item["query"])
            print("&".join(f"{k}={v}" for k, v in pairs))


main()
