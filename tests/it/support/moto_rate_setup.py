"""Populates a running moto server with one account holding many keys, for
the per-operation rate test.

Usage: moto_rate_setup.py ENDPOINT_URL [KEYS]

The management account 999999999999 creates an organization (the sweep
lists its accounts) and KEYS customer managed keys in eu-west-1 (default
12), each with one grant, so that a sweep of that account alone sends KEYS
`ListGrants` requests in one account and Region, beside as many
`DescribeKey`, `GetKeyPolicy`, `ListAliases` and `ListResourceTags`.

Prints one JSON object: the profile `org`'s credentials, the account and
the key ARNs.
"""

import json
import sys

from moto_common import client, doc

ENDPOINT = sys.argv[1]
KEYS = int(sys.argv[2]) if len(sys.argv) > 2 else 12
ACCOUNT = "999999999999"

iam = client(ENDPOINT, "iam", ACCOUNT, "eu-west-1")
iam.create_user(UserName="org-admin")
key = iam.create_access_key(UserName="org-admin")["AccessKey"]
client(ENDPOINT, "organizations", ACCOUNT, "eu-west-1").create_organization(FeatureSet="ALL")

kms = client(ENDPOINT, "kms", ACCOUNT, "eu-west-1")
arns = []
for number in range(KEYS):
    metadata = kms.create_key(Description=f"rate {number}", Policy=doc([
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}]))["KeyMetadata"]
    kms.create_grant(KeyId=metadata["KeyId"], GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/org-admin",
                     Operations=["Decrypt"])
    arns.append(metadata["Arn"])

print(json.dumps({"credentials": {"org": [key["AccessKeyId"], key["SecretAccessKey"]]},
                  "account": ACCOUNT, "keys": arns}))
