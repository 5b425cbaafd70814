"""What every moto setup script of the live tests shares: a boto3 client that
acts as one account of the emulator (moto reads the account from the
`x-moto-account-id` header), and a policy document from its statements."""

import json

import boto3


def client(endpoint, service, account, region):
    c = boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="AKIASETUP000000000000",
        aws_secret_access_key="setup-secret",
    )

    def as_account(request, **_):
        request.headers["x-moto-account-id"] = account

    c.meta.events.register("before-sign.*.*", as_account)
    return c


def doc(statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
