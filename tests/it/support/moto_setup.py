"""Populates a running moto server with the live end-to-end scenarios.

Usage: moto_setup.py ENDPOINT_URL

Writes through moto directly (never through the tool), as the accounts'
administrators, using moto's `x-moto-account-id` header to pick the account.
Prints one JSON object: the profiles' credentials and the ids the tests need.
Every scenario lives side by side (its own bucket, key or user), so one
server serves the whole suite.
"""

import json
import sys

from moto_common import client as common_client, doc

A = "111111111111"  # owns the buckets and keys (the organization's management account)
B = "222222222222"  # the external account (user dilip), not in an organization
REGION = "eu-west-1"
ENDPOINT = sys.argv[1]


def client(service, account):
    return common_client(ENDPOINT, service, account, REGION)


def keys_for(iam, user):
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return [key["AccessKeyId"], key["SecretAccessKey"]]


iam_a, iam_b = client("iam", A), client("iam", B)
kms_a, s3_a = client("kms", A), client("s3", A)
orgs_a = client("organizations", A)
out = {"credentials": {}, "keys": {}}

# Profiles: an administrator in each account, plus dilip's own keys (for the
# "caller's own identity" case).
for iam, name in ((iam_a, "a"), (iam_b, "b")):
    iam.create_user(UserName=f"{name}-admin")
    out["credentials"][name] = keys_for(iam, f"{name}-admin")

# Account A is the management account of an organization with SCPs and RCPs
# enabled; B is in none.
org = orgs_a.create_organization(FeatureSet="ALL")["Organization"]
root = orgs_a.list_roots()["Roots"][0]["Id"]
for kind in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
    orgs_a.enable_policy_type(RootId=root, PolicyType=kind)
out["org_id"] = org["Id"]


def make_key(description, statements, alias):
    key = kms_a.create_key(Description=description, Policy=doc(statements))["KeyMetadata"]
    kms_a.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return key


ROOT_A = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
          "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*"}
USE_B = {"Sid": "Allow use of the key by account B", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
         "Resource": "*"}

k1 = make_key("account-a-bucket key", [ROOT_A, USE_B], "alias/s3-account-a-bucket")
k2 = make_key("key without a grant for B", [ROOT_A], "alias/s3-nokeygrant-bucket")
k3 = make_key("disabled key", [ROOT_A, USE_B], "alias/s3-disabled-bucket")
kms_a.disable_key(KeyId=k3["KeyId"])  # moto needs the bare key id here
out["keys"] = {"k1": k1["Arn"], "k2": k2["Arn"], "k3": k3["Arn"]}
# A grant, so the snapshot test sees grants with constraints.
kms_a.create_grant(
    KeyId=k1["KeyId"],
    GranteePrincipal=f"arn:aws:iam::{B}:role/etl",
    Operations=["Decrypt"],
    Constraints={"EncryptionContextSubset": {"aws:s3:arn": "arn:aws:s3:::account-a-bucket"}},
    Name="etl-decrypt",
)


def bucket(name, key_arn=None, policy=None, sse_kms_default=False):
    s3_a.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3_a.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    if key_arn or sse_kms_default:
        default = {"SSEAlgorithm": "aws:kms"}
        if key_arn:
            default["KMSMasterKeyID"] = key_arn
        s3_a.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": True}]})
    if policy:
        s3_a.put_bucket_policy(Bucket=name, Policy=doc(policy))


def b_root_objects(name):
    return [
        {"Sid": "List for account B", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
         "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{name}"},
        {"Sid": "Objects for account B", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
         "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{name}/*"},
    ]


# The seeds' cross-account setup: allowed for ann (A) and dilip (B).
bucket("account-a-bucket", k1["Arn"], b_root_objects("account-a-bucket"))
s3_a.put_object(Bucket="account-a-bucket", Key="reports/data.csv", Body=b"a,b\n1,2\n",
                ServerSideEncryption="aws:kms", SSEKMSKeyId=k1["Arn"])
# Missing bucket grant: no bucket policy at all.
bucket("nogrant-bucket", k1["Arn"])
# Missing key grant: the key policy names only account A.
bucket("nokeygrant-bucket", k2["Arn"], b_root_objects("nokeygrant-bucket"))
# AWS managed key (aws/s3) as the default, used from account B.
bucket("awsmanaged-bucket", None, b_root_objects("awsmanaged-bucket"), sse_kms_default=True)
# Disabled key.
bucket("disabled-bucket", k3["Arn"], b_root_objects("disabled-bucket"))
# No default encryption configuration at all.
bucket("plain-bucket")

S3_ALL = {"Sid": "S3", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
          "Resource": ["arn:aws:s3:::*"]}
KMS_A_KEYS = {"Sid": "UseAccountAKeys", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
              "Resource": f"arn:aws:kms:{REGION}:{A}:key/*"}

# ann (A): inline policy for S3 and the keys.
iam_a.create_user(UserName="ann")
iam_a.put_user_policy(UserName="ann", PolicyName="ann-bucket-access", PolicyDocument=doc([S3_ALL, KMS_A_KEYS]))

# hank (A): allowed everything, but an explicit deny on writes.
iam_a.create_user(UserName="hank")
iam_a.put_user_policy(UserName="hank", PolicyName="hank-access", PolicyDocument=doc([
    S3_ALL, KMS_A_KEYS,
    {"Sid": "NoWrites", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::account-a-bucket/*"},
]))

# dilip (B): S3 inline, KMS through a group's managed policy (version 2 is
# the default), AssumeRole into account A's roles through a group inline.
iam_b.create_user(UserName="dilip", Tags=[{"Key": "team", "Value": "data"}])
iam_b.put_user_policy(UserName="dilip", PolicyName="access-s3", PolicyDocument=doc([S3_ALL]))
iam_b.create_group(GroupName="data")
iam_b.add_user_to_group(GroupName="data", UserName="dilip")
kms_policy = iam_b.create_policy(PolicyName="use-account-a-keys", PolicyDocument=doc([
    {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]))["Policy"]["Arn"]
iam_b.create_policy_version(PolicyArn=kms_policy, PolicyDocument=doc([KMS_A_KEYS]), SetAsDefault=True)
iam_b.attach_group_policy(GroupName="data", PolicyArn=kms_policy)
iam_b.put_group_policy(GroupName="data", PolicyName="assume-account-a-roles", PolicyDocument=doc([
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{A}:role/*"}]))
out["credentials"]["dilip"] = keys_for(iam_b, "dilip")

# gina (B): no policies at all.
iam_b.create_user(UserName="gina")

# partner-reader (A, with a path): trusts dilip with an external id, has a
# boundary that allows S3 and KMS.
boundary = iam_a.create_policy(PolicyName="partner-boundary", PolicyDocument=doc([
    {"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}]))["Policy"]["Arn"]
iam_a.create_role(
    RoleName="partner-reader", Path="/partners/",
    AssumeRolePolicyDocument=doc([{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:user/dilip"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "expected-id"}}}]),
    PermissionsBoundary=boundary,
)
iam_a.put_role_policy(RoleName="partner-reader", PolicyName="read-bucket", PolicyDocument=doc([S3_ALL, KMS_A_KEYS]))
out["role"] = iam_a.get_role(RoleName="partner-reader")["Role"]["Arn"]


# ---------------------------------------------------------------------------
# Two organizations whose management accounts are third accounts. Members
# come from CreateAccount (moto gives them random ids; there is no invite),
# so everything below is built from the generated ids.
#
# Organization 1 (management M1): OA owns a bucket and its key, OB is the
# callers' account; both sit in OU `workloads`, whose only SCP is an allow
# list (FullAWSAccess detached); OB's account-level SCP denies kms:Decrypt
# to user frank; an RCP on the root denies s3:GetObject to principals from
# outside the organization.
# Organization 2 (management M2): OC, the account of user carl.
M1, M2 = "333333333333", "444444444444"
orgs_m1, orgs_m2 = client("organizations", M1), client("organizations", M2)
org1 = orgs_m1.create_organization(FeatureSet="ALL")["Organization"]
org2 = orgs_m2.create_organization(FeatureSet="ALL")["Organization"]


def member(orgs, name):
    status = orgs.create_account(Email=f"{name}@example.com", AccountName=name)
    return status["CreateAccountStatus"]["AccountId"]


OA, OB = member(orgs_m1, "oa"), member(orgs_m1, "ob")
OC = member(orgs_m2, "oc")
root1 = orgs_m1.list_roots()["Roots"][0]["Id"]
root2 = orgs_m2.list_roots()["Roots"][0]["Id"]
for orgs, root_id in ((orgs_m1, root1), (orgs_m2, root2)):
    for kind in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        orgs.enable_policy_type(RootId=root_id, PolicyType=kind)
ou = orgs_m1.create_organizational_unit(ParentId=root1, Name="workloads")["OrganizationalUnit"]["Id"]
for account in (OA, OB):
    orgs_m1.move_account(AccountId=account, SourceParentId=root1, DestinationParentId=ou)


def org_policy(orgs, name, kind, statements, target):
    policy = orgs.create_policy(Name=name, Description=name, Type=kind, Content=doc(statements))
    orgs.attach_policy(PolicyId=policy["Policy"]["PolicySummary"]["Id"], TargetId=target)


orgs_m1.detach_policy(PolicyId="p-FullAWSAccess", TargetId=ou)
org_policy(orgs_m1, "workloads-allow-list", "SERVICE_CONTROL_POLICY", [
    {"Effect": "Allow", "Action": ["s3:*", "kms:*", "sts:*"], "Resource": "*"}], ou)
org_policy(orgs_m1, "no-decrypt-for-frank", "SERVICE_CONTROL_POLICY", [
    {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*",
     "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OB}:user/frank"}}}], OB)
org_policy(orgs_m1, "objects-stay-in-the-organization", "RESOURCE_CONTROL_POLICY", [
    {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
     "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": org1["Id"]},
                   "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}], root1)

iam_oa, iam_ob, iam_oc = client("iam", OA), client("iam", OB), client("iam", OC)
iam_m1, iam_m2 = client("iam", M1), client("iam", M2)
for iam, name in ((iam_oa, "oa"), (iam_ob, "ob"), (iam_oc, "oc"), (iam_m1, "m1"), (iam_m2, "m2")):
    iam.create_user(UserName=f"{name}-admin")
    out["credentials"][name] = keys_for(iam, f"{name}-admin")

kms_oa, s3_oa = client("kms", OA), client("s3", OA)
ORG_KMS = {"Sid": "UseOrgKeys", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
           "Resource": f"arn:aws:kms:{REGION}:{OA}:key/*"}
ok = kms_oa.create_key(Description="org-shared-bucket key", Policy=doc([
    {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
     "Principal": {"AWS": f"arn:aws:iam::{OA}:root"}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "Use by the callers' accounts", "Effect": "Allow",
     "Principal": {"AWS": [f"arn:aws:iam::{OB}:root", f"arn:aws:iam::{OC}:root"]},
     "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*"},
]))["KeyMetadata"]
s3_oa.create_bucket(Bucket="org-shared-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
s3_oa.put_bucket_ownership_controls(
    Bucket="org-shared-bucket", OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
s3_oa.put_bucket_encryption(Bucket="org-shared-bucket", ServerSideEncryptionConfiguration={
    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": ok["Arn"]},
               "BucketKeyEnabled": True}]})
s3_oa.put_bucket_policy(Bucket="org-shared-bucket", Policy=doc([
    {"Sid": "Callers' accounts", "Effect": "Allow",
     "Principal": {"AWS": [f"arn:aws:iam::{OB}:root", f"arn:aws:iam::{OC}:root"]},
     "Action": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
     "Resource": ["arn:aws:s3:::org-shared-bucket", "arn:aws:s3:::org-shared-bucket/*"]}]))
s3_oa.put_object(Bucket="org-shared-bucket", Key="reports/data.csv", Body=b"a,b\n1,2\n",
                 ServerSideEncryption="aws:kms", SSEKMSKeyId=ok["Arn"])
for iam, user in ((iam_ob, "olga"), (iam_ob, "frank"), (iam_oc, "carl")):
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="org-bucket", PolicyDocument=doc([S3_ALL, ORG_KMS]))
# A role of OA whose sessions the tests judge (session policies unknown).
iam_oa.create_role(RoleName="reader", AssumeRolePolicyDocument=doc([
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OA}:root"}, "Action": "sts:AssumeRole"}]))
iam_oa.put_role_policy(RoleName="reader", PolicyName="read", PolicyDocument=doc([S3_ALL, ORG_KMS]))
out["org"] = {"m1": M1, "m2": M2, "oa": OA, "ob": OB, "oc": OC,
              "org1": org1["Id"], "org2": org2["Id"], "key": ok["Arn"],
              "root1": root1, "root2": root2, "ou1": ou}

print(json.dumps(out))
