"""Populates a running moto server with an organization to sweep.

Usage: moto_org_setup.py ENDPOINT_URL [MEMBERS] [--light]

The management account 999999999999 creates an organization with SCPs and
RCPs enabled, an OU `workloads` with an SCP attached, and MEMBERS member
accounts (CreateAccount; moto gives them random ids). Every member gets, as
its own administrator (moto's `x-moto-account-id` header): a user in a group
with an inline policy, a role with a trust policy, a managed policy, a
bucket with an SSE-KMS default key and a bucket policy, a key in each of
eu-west-1 and us-east-1 (the first with a grant to the role), and every
third account an access point. Half the members sit in the OU. `--light`
creates only the bucket and one key per account (the benchmark's shape).

Prints one JSON object: the management profile's credentials, the
organization's id and, per account, what was created, so a test can compare
a sweep with it.
"""

import json
import sys

import re

from moto_common import client as common_client, doc

ENDPOINT = sys.argv[1]
MEMBERS = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 12
LIGHT = "--light" in sys.argv
MANAGEMENT = "999999999999"
REGIONS = ["eu-west-1", "us-east-1"]


# One boto3 client per service and region (making one is slow), acting as
# the account `AS["account"]` names at each call.
AS = {"account": MANAGEMENT}
CLIENTS = {}


def as_current_account(request, **_):
    # Headers of a botocore request add up on assignment: replace it.
    del request.headers["x-moto-account-id"]
    request.headers["x-moto-account-id"] = AS["account"]


def client(service, account, region="eu-west-1"):
    AS["account"] = account
    key = (service, region)
    if key not in CLIENTS:
        made = common_client(ENDPOINT, service, account, region)
        made.meta.events.register("before-sign.*.*", as_current_account)
        CLIENTS[key] = made
    return CLIENTS[key]


orgs = client("organizations", MANAGEMENT)
iam_m = client("iam", MANAGEMENT)
iam_m.create_user(UserName="org-admin")
key = iam_m.create_access_key(UserName="org-admin")["AccessKey"]
out = {"credentials": {"org": [key["AccessKeyId"], key["SecretAccessKey"]]}, "accounts": {}}

org = orgs.create_organization(FeatureSet="ALL")["Organization"]
out["org_id"] = org["Id"]
out["management"] = MANAGEMENT
root = orgs.list_roots()["Roots"][0]["Id"]
for kind in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
    orgs.enable_policy_type(RootId=root, PolicyType=kind)
ou = orgs.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
scp = orgs.create_policy(
    Name="deny-leaving",
    Description="no member leaves the organization",
    Type="SERVICE_CONTROL_POLICY",
    Content=doc([{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]),
)["Policy"]["PolicySummary"]["Id"]
orgs.attach_policy(PolicyId=scp, TargetId=ou)

members = []
for number in range(MEMBERS):
    created = orgs.create_account(Email=f"member{number}@example.com", AccountName=f"member-{number}")
    account = created["CreateAccountStatus"]["AccountId"]
    members.append(account)
    if number % 2 == 0:
        orgs.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)

for number, account in enumerate(members):
    made = {"principals": [], "buckets": [], "keys": [], "access_points": [], "in_ou": number % 2 == 0}
    iam = client("iam", account)
    kms = {region: client("kms", account, region) for region in REGIONS}
    s3 = client("s3", account)
    role_arn = f"arn:aws:iam::{account}:role/app-{number}"
    if not LIGHT:
        iam.create_group(GroupName="developers")
        iam.put_group_policy(GroupName="developers", PolicyName="read",
                             PolicyDocument=doc([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]))
        iam.create_user(UserName=f"dev-{number}")
        iam.add_user_to_group(GroupName="developers", UserName=f"dev-{number}")
        iam.put_user_policy(UserName=f"dev-{number}", PolicyName="kms",
                            PolicyDocument=doc([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]))
        iam.create_role(RoleName=f"app-{number}", AssumeRolePolicyDocument=doc([
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]))
        managed = iam.create_policy(PolicyName="bucket-read", PolicyDocument=doc([
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=f"app-{number}", PolicyArn=managed)
        made["principals"] = [f"arn:aws:iam::{account}:user/dev-{number}", role_arn]

    keys = {}
    for region in (REGIONS if not LIGHT else REGIONS[:1]):
        metadata = kms[region].create_key(Description=f"member {number} {region}", Policy=doc([
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}]))["KeyMetadata"]
        keys[region] = metadata
        made["keys"].append(metadata["Arn"])
    if not LIGHT:
        kms["eu-west-1"].create_grant(KeyId=keys["eu-west-1"]["KeyId"], GranteePrincipal=role_arn,
                                      Operations=["Decrypt", "GenerateDataKey"])

    bucket = f"org-member-{number}-{account}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                               "KMSMasterKeyID": keys["eu-west-1"]["Arn"]}}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=doc([
        {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]))
    made["buckets"].append(bucket)
    if not LIGHT and number % 3 == 0:
        # S3 Control puts the account in the host name, which 127.0.0.1
        # cannot carry: send it to the endpoint as given.
        control = client("s3control", account)
        control.meta.events.register(
            "before-send.s3-control.*",
            lambda request, **_: setattr(request, "url", re.sub(r"//\d{12}\.", "//", request.url)))
        point = control.create_access_point(AccountId=account, Name=f"ap-{number}", Bucket=bucket)
        made["access_points"].append(point.get("AccessPointArn")
                                     or f"arn:aws:s3:eu-west-1:{account}:accesspoint/ap-{number}")
    out["accounts"][account] = made

out["accounts"][MANAGEMENT] = {"principals": [f"arn:aws:iam::{MANAGEMENT}:user/org-admin"],
                               "buckets": [], "keys": [], "access_points": [], "in_ou": False}
print(json.dumps(out))
