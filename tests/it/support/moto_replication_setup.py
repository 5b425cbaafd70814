"""Populates a running moto server for the live replication test.

Usage: moto_replication_setup.py ENDPOINT_URL

Account A (111111111111) owns the source buckets in eu-west-1, their key and
the replication role; account B (222222222222) owns the destination buckets
and the replica key in eu-central-1. The documents are the ones the S3 User
Guide shows ("Setting up permissions for live replication", "Replicating
encrypted objects"). Writes through moto directly, as each account's
administrator (moto's `x-moto-account-id` header). Prints one JSON object:
the profiles' credentials and the ARNs the test needs.
"""

import json
import sys

from moto_common import client as common_client, doc

A = "111111111111"
B = "222222222222"
SOURCE_REGION = "eu-west-1"
DESTINATION_REGION = "eu-central-1"
ENDPOINT = sys.argv[1]


def client(service, account, region):
    return common_client(ENDPOINT, service, account, region)


iam_a, iam_b = client("iam", A, SOURCE_REGION), client("iam", B, SOURCE_REGION)
s3_a, kms_a = client("s3", A, SOURCE_REGION), client("kms", A, SOURCE_REGION)
s3_b, kms_b = client("s3", B, DESTINATION_REGION), client("kms", B, DESTINATION_REGION)
out = {"credentials": {}}
for iam, name in ((iam_a, "a"), (iam_b, "b")):
    iam.create_user(UserName=f"{name}-admin")
    key = iam.create_access_key(UserName=f"{name}-admin")["AccessKey"]
    out["credentials"][name] = [key["AccessKeyId"], key["SecretAccessKey"]]


def root(account):
    return {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}


source_key = kms_a.create_key(Policy=doc([root(A)]))["KeyMetadata"]["Arn"]
replica_key = kms_b.create_key(Policy=doc([
    root(B),
    # S3 User Guide, "Replicating encrypted objects": the key owner grants
    # the source bucket owner the use of the key.
    {"Sid": "Allow use of the key by the source account", "Effect": "Allow",
     "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
     "Resource": "*"},
]))["KeyMetadata"]["Arn"]
out["source_key"], out["replica_key"] = source_key, replica_key

role = iam_a.create_role(
    RoleName="replication-role",
    AssumeRolePolicyDocument=doc([{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}]),
)["Role"]["Arn"]
out["role"] = role


def role_policy(source, destination):
    return doc([
        {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::{source}"]},
        {"Effect": "Allow", "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl"],
         "Resource": [f"arn:aws:s3:::{source}/*"]},
        {"Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateDelete"],
         "Resource": f"arn:aws:s3:::{destination}/*"},
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [source_key],
         "Condition": {"StringLike": {"kms:ViaService": f"s3.{SOURCE_REGION}.amazonaws.com",
                                      "kms:EncryptionContext:aws:s3:arn": [f"arn:aws:s3:::{source}/*"]}}},
        {"Effect": "Allow", "Action": ["kms:Encrypt"], "Resource": [replica_key],
         "Condition": {"StringLike": {"kms:ViaService": f"s3.{DESTINATION_REGION}.amazonaws.com",
                                      "kms:EncryptionContext:aws:s3:arn": [f"arn:aws:s3:::{destination}/*"]}}},
    ])


def destination(name, versioning):
    s3_b.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": DESTINATION_REGION})
    s3_b.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
    # S3 User Guide, "Setting up permissions for live replication": the
    # destination owner grants the source bucket owner the replication actions.
    s3_b.put_bucket_policy(Bucket=name, Policy=json.dumps({
        "Version": "2012-10-17", "Id": "PolicyForDestinationBucket", "Statement": [
            {"Sid": "Permissions on objects", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
             "Action": ["s3:ReplicateDelete", "s3:ReplicateObject"],
             "Resource": f"arn:aws:s3:::{name}/*"},
            {"Sid": "Permissions on bucket", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
             "Action": ["s3:List*", "s3:GetBucketVersioning", "s3:PutBucketVersioning"],
             "Resource": f"arn:aws:s3:::{name}"}]}))
    s3_b.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": replica_key}}]})


def source(name, target):
    s3_a.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": SOURCE_REGION})
    s3_a.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3_a.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": source_key}}]})
    s3_a.put_object(Bucket=name, Key="reports/data.csv", Body=b"a,b\n",
                    ServerSideEncryption="aws:kms", SSEKMSKeyId=source_key)
    iam_a.put_role_policy(RoleName="replication-role", PolicyName=f"replicate-{name}",
                          PolicyDocument=role_policy(name, target))
    s3_a.put_bucket_replication(Bucket=name, ReplicationConfiguration={
        "Role": role,
        "Rules": [{
            "ID": "reports", "Priority": 1, "Status": "Enabled",
            "Filter": {"Prefix": "reports/"},
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
            "Destination": {"Bucket": f"arn:aws:s3:::{target}", "Account": B,
                            "EncryptionConfiguration": {"ReplicaKmsKeyID": replica_key}},
        }],
    })


destination("repl-replica", "Enabled")
source("repl-source", "repl-replica")
# The same, into a destination whose versioning is suspended.
destination("repl-replica-suspended", "Suspended")
source("repl-source-suspended", "repl-replica-suspended")

print(json.dumps(out))
