"""Populates a running moto server for the live tests of AWS services as
callers: a CloudFront origin (bucket `web-origin`) whose bucket policy and
key policy carry the statements the CloudFront Developer Guide documents for
an origin access control ("Restrict access to an Amazon S3 origin"), and an
SSE-KMS object in it.

Usage: moto_services.py ENDPOINT_URL

Writes through moto directly as account 111111111111's administrator
(moto's `x-moto-account-id` header); prints the profile's credentials and
the ids the test needs as one JSON object.
"""

import json
import sys

from moto_common import client as common_client, doc

A = "111111111111"
REGION = "eu-west-1"
ENDPOINT = sys.argv[1]
DISTRIBUTION = f"arn:aws:cloudfront::{A}:distribution/EDFDVBD6EXAMPLE"


def client(service):
    return common_client(ENDPOINT, service, A, REGION)


iam, kms, s3 = client("iam"), client("kms"), client("s3")
iam.create_user(UserName="a-admin")
key = iam.create_access_key(UserName="a-admin")["AccessKey"]
out = {"credentials": {"a": [key["AccessKeyId"], key["SecretAccessKey"]]},
       "distribution": DISTRIBUTION}

root = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*"}
oac_key = {"Sid": "AllowCloudFrontServicePrincipalSSE-KMS", "Effect": "Allow",
           "Principal": {"Service": ["cloudfront.amazonaws.com"]},
           "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"], "Resource": "*",
           "Condition": {"StringEquals": {"AWS:SourceArn": DISTRIBUTION}}}
with_oac = kms.create_key(Description="web-origin key", Policy=doc([root, oac_key]))["KeyMetadata"]
without_oac = kms.create_key(Description="key without OAC", Policy=doc([root]))["KeyMetadata"]
out["keys"] = {"with_oac": with_oac["Arn"], "without_oac": without_oac["Arn"]}

for name, key_arn in (("web-origin", with_oac["Arn"]), ("web-origin-nokey", without_oac["Arn"])):
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]})
    s3.put_bucket_policy(Bucket=name, Policy=doc([{
        "Sid": "AllowCloudFrontServicePrincipalReadOnly", "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{name}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": DISTRIBUTION}}}]))
    s3.put_object(Bucket=name, Key="index.html", Body=b"<html></html>",
                  ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn)

print(json.dumps(out))
