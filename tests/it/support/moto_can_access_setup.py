"""Populates a running moto server for the live `can-access` test.

Usage: moto_can_access_setup.py ENDPOINT_URL

Three accounts, none in an organization: P holds the principal judged (user
pat) and three buckets; R holds three buckets pat reaches (or not) across
accounts; F holds a key that R's bucket names and that no profile can read.
Writes through moto directly as each account's administrator (the
`x-moto-account-id` header), never through the tool. Prints the profiles'
credentials and the names the test needs as one JSON object.
"""

import sys

from moto_common import client as common_client, doc
import json

P = "111111111111"  # the principal's account
R = "222222222222"  # another account, sharing one bucket with P
F = "333333333333"  # owns a key no profile of the test is of
REGION = "eu-west-1"
ENDPOINT = sys.argv[1]


def client(service, account):
    return common_client(ENDPOINT, service, account, REGION)


out = {"credentials": {}}
iam_p, iam_r = client("iam", P), client("iam", R)
for iam, name in ((iam_p, "p"), (iam_r, "r")):
    iam.create_user(UserName=f"{name}-admin")
    key = iam.create_access_key(UserName=f"{name}-admin")["AccessKey"]
    out["credentials"][name] = [key["AccessKeyId"], key["SecretAccessKey"]]

PAT = f"arn:aws:iam::{P}:user/pat"
# pat's own policy allows S3 and KMS everywhere: what it reaches is decided
# by the buckets' and keys' policies.
iam_p.create_user(UserName="pat")
iam_p.put_user_policy(UserName="pat", PolicyName="s3-and-kms", PolicyDocument=doc([
    {"Sid": "S3", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
     "Resource": "arn:aws:s3:::*"},
    {"Sid": "KMS", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"},
]))


def root_of(account):
    return {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}


def key(account, description, statements):
    return client("kms", account).create_key(Description=description, Policy=doc(statements))["KeyMetadata"]["Arn"]


USE = ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"]
# P's keys: one whose policy lets P's IAM policies grant it, one that names
# only an administrator role (IAM policies of P cannot grant it).
kp_open = key(P, "lets P's IAM policies grant use", [root_of(P)])
kp_closed = key(P, "names only key-admin", [
    {"Sid": "Admin only", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{P}:role/key-admin"},
     "Action": "kms:*", "Resource": "*"}])
# R's key lets P use it; F's key is never read.
kr = key(R, "shared with P", [root_of(R), {
    "Sid": "Use by account P", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{P}:root"},
    "Action": USE, "Resource": "*"}])
kf = key(F, "in an account no profile is of", [root_of(F), {
    "Sid": "Use by account P", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{P}:root"},
    "Action": USE, "Resource": "*"}])


def bucket(account, name, key_arn, policy=None):
    s3 = client("s3", account)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
        "BucketKeyEnabled": True}]})
    if policy:
        s3.put_bucket_policy(Bucket=name, Policy=doc(policy))


def grant_to(who, name):
    return [
        {"Sid": "List", "Effect": "Allow", "Principal": {"AWS": who},
         "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{name}"},
        {"Sid": "Objects", "Effect": "Allow", "Principal": {"AWS": who},
         "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{name}/*"},
    ]


bucket(P, "p-key-allows", kp_open)
bucket(P, "p-key-refuses", kp_closed)
bucket(P, "p-bucket-denies", kp_open, [
    {"Sid": "NotPat", "Effect": "Deny", "Principal": {"AWS": PAT}, "Action": "s3:*",
     "Resource": ["arn:aws:s3:::p-bucket-denies", "arn:aws:s3:::p-bucket-denies/*"]}])
bucket(R, "r-shares", kr, grant_to(f"arn:aws:iam::{P}:root", "r-shares"))
bucket(R, "r-private", kr)
bucket(R, "r-foreign-key", kf, grant_to(f"arn:aws:iam::{P}:root", "r-foreign-key"))

out["principal"] = PAT
out["keys"] = {"kp_open": kp_open, "kp_closed": kp_closed, "kr": kr, "kf": kf}
print(json.dumps(out))
