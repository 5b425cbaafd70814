"""Populates a running moto server for the live test of
`snapshot --all-principals`: account 111111111111 owns bucket `gaad-bucket`
and its SSE-KMS key, account 222222222222 holds the callers; between them a
dozen principals (users in groups, roles, inline and managed policies, a
managed policy with a non-default version, a role with a permissions
boundary).

Usage: moto_gaad_setup.py ENDPOINT_URL

Writes through moto directly as each account (moto's `x-moto-account-id`
header); prints the profiles' credentials, and every principal created with
the identity policies it holds (name and kind, as the snapshot names them),
as one JSON object.
"""

import json
import sys

from moto_common import client as common_client, doc

A, B = "111111111111", "222222222222"
REGION = "eu-west-1"
ENDPOINT = sys.argv[1]
BUCKET = "gaad-bucket"
OBJECT = "reports/data.csv"
BA, OA = f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"


def client(service, account):
    return common_client(ENDPOINT, service, account, REGION)


def allow(actions, resources, sid=None):
    statement = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if sid:
        statement["Sid"] = sid
    return statement


def deny(actions, resources, sid=None):
    statement = {"Effect": "Deny", "Action": actions, "Resource": resources}
    if sid:
        statement["Sid"] = sid
    return statement


out = {"credentials": {}, "bucket": BUCKET, "object": OBJECT, "principals": {}}
iam_a, iam_b = client("iam", A), client("iam", B)
kms, s3 = client("kms", A), client("s3", A)

root_a = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
          "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*"}
use_b = {"Sid": "Account B uses the key", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], "Resource": "*"}
key = kms.create_key(Description="gaad-bucket key", Policy=doc([root_a, use_b]))["KeyMetadata"]
K = key["Arn"]
out["key"] = K
s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
s3.put_bucket_ownership_controls(
    Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [
    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": K}}]})
s3.put_bucket_policy(Bucket=BUCKET, Policy=doc([
    {"Sid": "AccountBLists", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
     "Action": "s3:ListBucket", "Resource": BA},
    {"Sid": "AccountBReadsAndWrites", "Effect": "Allow",
     "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
     "Action": ["s3:GetObject", "s3:PutObject"], "Resource": OA}]))
s3.put_object(Bucket=BUCKET, Key=OBJECT, Body=b"a,b\n", ServerSideEncryption="aws:kms",
              SSEKMSKeyId=K)


def record(arn, policies):
    out["principals"][arn] = policies


def managed(iam, account, name, versions, default):
    """A managed policy whose versions are `versions` (in creation order),
    `default` (1-based) being the default one."""
    arn = iam.create_policy(PolicyName=name, PolicyDocument=doc(versions[0]))["Policy"]["Arn"]
    for number, statements in enumerate(versions[1:], start=2):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(statements),
                                  SetAsDefault=number == default)
    if default == 1 and len(versions) > 1:
        iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    return arn


def admin(iam, account, profile):
    name = f"{profile}-admin"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="admin", PolicyDocument=doc([allow("*", "*")]))
    pair = iam.create_access_key(UserName=name)["AccessKey"]
    out["credentials"][profile] = [pair["AccessKeyId"], pair["SecretAccessKey"]]
    record(f"arn:aws:iam::{account}:user/{name}", [["admin", "inline"]])


# Account A: the bucket's own users and roles.
admin(iam_a, A, "a")
read_reports = managed(iam_a, A, "ReadReports", [
    [allow(["s3:*", "kms:*"], "*")],
    [allow("s3:GetObject", OA), allow("kms:Decrypt", K)],
], default=2)
iam_a.create_group(GroupName="analysts")
iam_a.put_group_policy(GroupName="analysts", PolicyName="list-reports",
                       PolicyDocument=doc([allow("s3:ListBucket", BA)]))
iam_a.attach_group_policy(GroupName="analysts", PolicyArn=read_reports)
iam_a.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "analytics"}])
iam_a.add_user_to_group(GroupName="analysts", UserName="alice")
record(f"arn:aws:iam::{A}:user/alice",
       [["analysts/list-reports", "group-inline"], [read_reports, "group-managed"]])
iam_a.create_user(UserName="bob")
iam_a.put_user_policy(UserName="bob", PolicyName="upload", PolicyDocument=doc([
    allow("s3:PutObject", OA), allow("kms:GenerateDataKey", K)]))
record(f"arn:aws:iam::{A}:user/bob", [["upload", "inline"]])

app_full = managed(iam_a, A, "AppFullAccess", [[allow(["s3:*", "kms:*"], "*")]], default=1)
app_boundary = managed(iam_a, A, "AppBoundary", [
    [allow(["s3:*", "kms:*"], "*")],
    [allow(["s3:GetObject", "s3:PutObject", "s3:ListBucket"], [BA, OA])],
], default=2)
ec2_trust = doc([{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                  "Action": "sts:AssumeRole"}])
iam_a.create_role(RoleName="app-role", Path="/service/", AssumeRolePolicyDocument=ec2_trust,
                  PermissionsBoundary=app_boundary, Tags=[{"Key": "app", "Value": "reports"}])
iam_a.attach_role_policy(RoleName="app-role", PolicyArn=app_full)
record(f"arn:aws:iam::{A}:role/service/app-role", [[app_full, "managed"]])
out["boundaries"] = {f"arn:aws:iam::{A}:role/service/app-role": app_boundary}

b_trust = doc([{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                "Action": "sts:AssumeRole"}])
iam_a.create_role(RoleName="reader-role", AssumeRolePolicyDocument=b_trust)
iam_a.put_role_policy(RoleName="reader-role", PolicyName="read", PolicyDocument=doc([
    allow(["s3:GetObject", "s3:ListBucket"], [BA, OA]), allow("kms:Decrypt", K)]))
record(f"arn:aws:iam::{A}:role/reader-role", [["read", "inline"]])

# Account B: the callers.
admin(iam_b, B, "b")
iam_b.create_group(GroupName="data-readers")
iam_b.put_group_policy(GroupName="data-readers", PolicyName="read-account-a", PolicyDocument=doc([
    allow(["s3:GetObject", "s3:ListBucket"], [BA, OA]), allow("kms:Decrypt", K)]))
writer = managed(iam_b, B, "WriterPolicy", [
    [allow(["s3:*", "kms:*"], "*", sid="Thaw")],
    [allow("s3:PutObject", OA), allow("kms:GenerateDataKey", K)],
    [deny(["s3:*", "kms:*"], "*", sid="Freeze")],
], default=2)
iam_b.create_group(GroupName="writers")
iam_b.attach_group_policy(GroupName="writers", PolicyArn=writer)
iam_b.create_user(UserName="dave")
iam_b.add_user_to_group(GroupName="data-readers", UserName="dave")
record(f"arn:aws:iam::{B}:user/dave", [["data-readers/read-account-a", "group-inline"]])
iam_b.create_user(UserName="erin")
iam_b.add_user_to_group(GroupName="data-readers", UserName="erin")
iam_b.add_user_to_group(GroupName="writers", UserName="erin")
record(f"arn:aws:iam::{B}:user/erin",
       [["data-readers/read-account-a", "group-inline"], [writer, "group-managed"]])
iam_b.create_user(UserName="frank")
iam_b.put_user_policy(UserName="frank", PolicyName="no-kms",
                      PolicyDocument=doc([deny("kms:*", "*")]))
iam_b.attach_user_policy(UserName="frank", PolicyArn=writer)
record(f"arn:aws:iam::{B}:user/frank", [["no-kms", "inline"], [writer, "managed"]])
iam_b.create_user(UserName="gina", Path="/contractors/")
record(f"arn:aws:iam::{B}:user/contractors/gina", [])

etl_boundary = managed(iam_b, B, "EtlBoundary", [
    [allow(["s3:*", "kms:*"], "*")],
    [allow(["s3:*", "kms:Decrypt"], "*")],
], default=2)
own_trust = doc([{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                  "Action": "sts:AssumeRole"}])
iam_b.create_role(RoleName="etl-role", AssumeRolePolicyDocument=own_trust,
                  PermissionsBoundary=etl_boundary)
iam_b.put_role_policy(RoleName="etl-role", PolicyName="etl", PolicyDocument=doc([
    allow(["s3:GetObject", "s3:PutObject", "s3:ListBucket"], [BA, OA]),
    allow(["kms:Decrypt", "kms:GenerateDataKey"], K)]))
record(f"arn:aws:iam::{B}:role/etl-role", [["etl", "inline"]])
out["boundaries"][f"arn:aws:iam::{B}:role/etl-role"] = etl_boundary
read_only = managed(iam_b, B, "AuditReadOnly", [
    [allow(["s3:Get*", "s3:List*", "kms:Describe*", "kms:Get*", "kms:List*"], "*")]], default=1)
iam_b.create_role(RoleName="audit-role", AssumeRolePolicyDocument=own_trust)
iam_b.attach_role_policy(RoleName="audit-role", PolicyArn=read_only)
record(f"arn:aws:iam::{B}:role/audit-role", [[read_only, "managed"]])

print(json.dumps(out))
