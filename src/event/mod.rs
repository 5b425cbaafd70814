//! CloudTrail records as the request to judge: the envelopes a record comes
//! in, and what each S3 or KMS record proves about the request it logged
//! (who, which bucket and object, which operation, and the request context).
//! Pure: text in, requests out; the command line lays its flags over them.

pub mod authorization;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::diagnosis::Operation;
use crate::report::escape_control;

/// A record, or an envelope of records, that names no request the tool can
/// judge; the message says what is missing and which flag supplies it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EventError(pub String);

/// One request a record proves, with what it leaves open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRequest {
    /// Which record this is: `FILE record N (S3 GetObject, eventID ...)`.
    pub source: String,
    /// `None`: the record names no principal (an `AWSAccount` identity);
    /// `missing_principal` says why.
    pub principal: Option<String>,
    pub missing_principal: Option<String>,
    pub bucket: Option<String>,
    pub object: Option<String>,
    pub operations: Vec<Operation>,
    /// Request-context values the record proves, in a stable order.
    pub context: BTreeMap<String, String>,
    /// `eventTime`: when the request was made.
    pub time: Option<DateTime<Utc>>,
    /// What the record leaves to the tool's defaults, for the report's notes.
    pub notes: Vec<String>,
    /// Keys the record leaves open: unknown, not the tool's default.
    pub unknown: Vec<String>,
    /// Which field of the record each value came from: `principal`,
    /// `bucket`, `object`, `operations` and every key of `context`, to the
    /// record's field (`userIdentity.arn`, `vpcEndpointId`, ...).
    pub provenance: BTreeMap<String, String>,
}

/// Every distinct S3 request in `text` (named `name` in messages), in order.
/// Records of other services, and KMS records S3 did not make for an
/// object, are skipped; a file left with none is an error.
pub fn read(name: &str, text: &str) -> Result<Vec<EventRequest>, EventError> {
    let value: Value = serde_json::from_str(text).map_err(|error| {
        // serde_json's message ends with the line and column.
        EventError(format!("`{name}` is not JSON: {error}"))
    })?;
    let records = records(name, value)?;
    let mut requests: Vec<EventRequest> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    for (index, record) in records.iter().enumerate() {
        let label = format!("`{name}` record {}", index + 1);
        match request_of(&label, record)? {
            Some(request) => {
                // A retry is logged as another record of the same request; it
                // differs only in when it was made, and is judged once.
                if !requests.iter().any(|seen| same_request(seen, &request)) {
                    requests.push(request);
                }
            }
            None => skipped.push(describe(record)),
        }
    }
    if requests.is_empty() {
        return Err(EventError(format!(
            "`{name}` holds no S3 request to judge (found {}): give a CloudTrail record of S3 (eventSource s3.amazonaws.com) or of S3's call to KMS for an object",
            if skipped.is_empty() {
                "no record".to_string()
            } else {
                skipped.join(", ")
            }
        )));
    }
    Ok(requests)
}

/// The records of each envelope form: a record alone, `{"Records": [...]}`
/// as CloudTrail writes log files to S3, an EventBridge "AWS API Call via
/// CloudTrail" event (the record is its `detail`), and `aws cloudtrail
/// lookup-events` output (each `Events[].CloudTrailEvent` is the record as
/// a JSON string). CloudTrail User Guide, "CloudTrail record contents";
/// EventBridge User Guide, "Events from AWS services"; CloudTrail API
/// Reference, "LookupEvents".
fn records(name: &str, value: Value) -> Result<Vec<Value>, EventError> {
    let Value::Object(mut object) = value else {
        return Err(EventError(format!(
            "`{name}` is not a CloudTrail record: expected a JSON object (a record, {{\"Records\": [...]}}, an EventBridge event or lookup-events output)"
        )));
    };
    if let Some(records) = object.remove("Records") {
        let Value::Array(records) = records else {
            return Err(EventError(format!("`{name}`: `Records` is not an array")));
        };
        return Ok(records);
    }
    if let Some(events) = object.remove("Events") {
        let Value::Array(events) = events else {
            return Err(EventError(format!("`{name}`: `Events` is not an array")));
        };
        let mut records = Vec::new();
        for (index, event) in events.iter().enumerate() {
            let text = event
                .get("CloudTrailEvent")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    EventError(format!(
                        "`{name}`: Events[{index}] has no `CloudTrailEvent` string"
                    ))
                })?;
            let record = serde_json::from_str(text).map_err(|error| {
                EventError(format!(
                    "`{name}`: Events[{index}].CloudTrailEvent is not JSON: {error}"
                ))
            })?;
            records.push(record);
        }
        return Ok(records);
    }
    if object.get("detail-type").and_then(Value::as_str) == Some("AWS API Call via CloudTrail") {
        let detail = object.remove("detail").unwrap_or(Value::Null);
        return Ok(vec![detail]);
    }
    if object.contains_key("eventSource") || object.contains_key("eventName") {
        return Ok(vec![Value::Object(object)]);
    }
    Err(EventError(format!(
        "`{name}` is not a CloudTrail record: it has no `eventSource`, `Records`, `Events` or EventBridge `detail`"
    )))
}

fn text<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut here = value;
    for step in path {
        here = here.get(step)?;
    }
    here.as_str().filter(|text| !text.is_empty())
}

/// A record's own text as it goes into a message or a label: a hostile
/// record must not drive the terminal that shows it.
fn shown(text: &str) -> String {
    escape_control(text).into_owned()
}

fn describe(record: &Value) -> String {
    format!(
        "{} {}",
        shown(text(record, &["eventSource"]).unwrap_or("(no eventSource)")),
        shown(text(record, &["eventName"]).unwrap_or("(no eventName)"))
    )
}

/// The request of one record; `None` for a record the tool does not judge
/// (another service, a KMS call not made by S3 for an object).
fn request_of(label: &str, record: &Value) -> Result<Option<EventRequest>, EventError> {
    let event_name = text(record, &["eventName"]).unwrap_or("");
    match text(record, &["eventSource"]) {
        Some("s3.amazonaws.com") => s3_request(label, record, event_name).map(Some),
        Some("kms.amazonaws.com") => kms_request(label, record, event_name),
        _ => Ok(None),
    }
}

/// The operation of an S3 API call. Only the calls the chain judges: any
/// other is said to be outside it rather than judged as something else.
fn s3_operation(event_name: &str) -> Option<Operation> {
    Some(match event_name {
        "GetObject" => Operation::Get,
        "HeadObject" => Operation::Head,
        "PutObject" => Operation::Put,
        "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => Operation::Multipart,
        "CopyObject" | "UploadPartCopy" => Operation::Copy,
        "ListObjects" | "ListObjectsV2" => Operation::List,
        _ => return None,
    })
}

fn s3_request(label: &str, record: &Value, event_name: &str) -> Result<EventRequest, EventError> {
    let operation = s3_operation(event_name).ok_or_else(|| {
        EventError(format!(
            "{label}: S3 `{}` is not an operation the tool judges (GetObject, HeadObject, PutObject, the multipart upload calls, CopyObject, ListObjects); give --op with --bucket and --object instead",
            shown(event_name)
        ))
    })?;
    let parameters = record.get("requestParameters").unwrap_or(&Value::Null);
    // S3 data events name the bucket and key in `requestParameters` and the
    // object's ARN in `resources` (S3 User Guide, "Logging Amazon S3 API
    // calls using AWS CloudTrail", example data events).
    let mut provenance = BTreeMap::new();
    let mut bucket = text(parameters, &["bucketName"]).map(str::to_string);
    if bucket.is_some() {
        provenance.insert(
            "bucket".to_string(),
            "requestParameters.bucketName".to_string(),
        );
    }
    let mut object = text(parameters, &["key"]).map(str::to_string);
    if object.is_some() {
        provenance.insert("object".to_string(), "requestParameters.key".to_string());
    }
    if let Some(resources) = record.get("resources").and_then(Value::as_array) {
        for resource in resources {
            let Some(arn) = text(resource, &["ARN"]) else {
                continue;
            };
            if let Some(rest) = arn.strip_prefix("arn:aws:s3:::") {
                match rest.split_once('/') {
                    Some((name, key)) => {
                        if bucket.is_none() {
                            bucket = Some(name.to_string());
                            provenance.insert("bucket".to_string(), "resources[].ARN".to_string());
                        }
                        if operation != Operation::List && object.is_none() {
                            object = Some(key.to_string());
                            provenance.insert("object".to_string(), "resources[].ARN".to_string());
                        }
                    }
                    None => {
                        if bucket.is_none() {
                            bucket = Some(rest.to_string());
                            provenance.insert("bucket".to_string(), "resources[].ARN".to_string());
                        }
                    }
                }
            }
        }
    }
    let mut context = BTreeMap::new();
    network_context(record, &mut context, &mut provenance);
    // A header S3 received is logged among the request parameters; one the
    // record does not carry was not sent, which is what the tool assumes of
    // a header not given. Only the headers S3 has condition keys for: the
    // `X-Amz-*` query parameters of a presigned URL are logged there too,
    // and are no condition keys.
    if let Some(parameters) = parameters.as_object() {
        for (key, value) in parameters {
            let lowered = key.to_ascii_lowercase();
            if HEADER_KEYS.contains(&lowered.as_str())
                && let Some(value) = value.as_str()
            {
                context.insert(format!("s3:{lowered}"), value.to_string());
                provenance.insert(format!("s3:{lowered}"), format!("requestParameters.{key}"));
            }
        }
    }
    if operation == Operation::List {
        for (parameter, key) in [
            ("prefix", "s3:prefix"),
            ("delimiter", "s3:delimiter"),
            ("max-keys", "s3:max-keys"),
        ] {
            if let Some(value) = text(parameters, &[parameter]) {
                context.insert(key.to_string(), value.to_string());
                provenance.insert(key.to_string(), format!("requestParameters.{parameter}"));
            }
        }
    }
    // CloudTrail User Guide, "CloudTrail record contents": `tlsDetails`
    // holds the TLS version of the client's connection; S3 exposes it as
    // `s3:TlsVersion` and a TLS connection is `aws:SecureTransport`.
    // S3 data events log how the request was signed: `AuthHeader` in the
    // Authorization header, `QueryString` in the URL, a presigned URL (S3
    // User Guide, "Logging Amazon S3 API calls using AWS CloudTrail",
    // example entries; the `s3:authType` values are those of the Service
    // Authorization Reference for Amazon S3).
    if text(record, &["additionalEventData", "AuthenticationMethod"]).is_some() {
        provenance.insert(
            "s3:authType".to_string(),
            "additionalEventData.AuthenticationMethod".to_string(),
        );
    }
    match text(record, &["additionalEventData", "AuthenticationMethod"]) {
        Some("AuthHeader") => {
            context.insert("s3:authType".to_string(), "REST-HEADER".to_string());
        }
        Some("QueryString") => {
            context.insert("s3:authType".to_string(), "REST-QUERY-STRING".to_string());
        }
        _ => {}
    }
    let mut notes = Vec::new();
    let mut unknown = Vec::new();
    match text(record, &["tlsDetails", "tlsVersion"]) {
        Some(version) => {
            context.insert("aws:SecureTransport".to_string(), "true".to_string());
            provenance.insert(
                "aws:SecureTransport".to_string(),
                "tlsDetails.tlsVersion".to_string(),
            );
            if let Some(number) = version.strip_prefix("TLSv") {
                context.insert("s3:TlsVersion".to_string(), number.to_string());
                provenance.insert(
                    "s3:TlsVersion".to_string(),
                    "tlsDetails.tlsVersion".to_string(),
                );
            }
        }
        None => {
            notes.push(NO_TLS_DETAILS.to_string());
            unknown.extend(["aws:SecureTransport", "s3:TlsVersion"].map(str::to_string));
        }
    }
    common_context(record, &mut context, &mut provenance);
    let (principal, missing_principal) = principal_of(record);
    if let Some(field) = principal_field(record, principal.as_deref()) {
        provenance.insert("principal".to_string(), field.to_string());
    }
    provenance.insert("operations".to_string(), "eventName".to_string());
    Ok(EventRequest {
        source: source_label(label, record, "S3"),
        principal,
        missing_principal,
        bucket,
        object,
        operations: vec![operation],
        context,
        time: event_time(label, record)?,
        notes,
        unknown,
        provenance,
    })
}

/// The request headers S3 has `s3:` condition keys for (Service
/// Authorization Reference, "Actions, resources, and condition keys for
/// Amazon S3").
const HEADER_KEYS: &[&str] = &[
    "x-amz-acl",
    "x-amz-content-sha256",
    "x-amz-copy-source",
    "x-amz-grant-full-control",
    "x-amz-grant-read",
    "x-amz-grant-read-acp",
    "x-amz-grant-write",
    "x-amz-grant-write-acp",
    "x-amz-metadata-directive",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-storage-class",
    "x-amz-website-redirect-location",
];

/// The record's silence on TLS proves neither HTTPS nor HTTP (AWS's
/// record-contents page says when `tlsDetails` appears, not what its
/// absence means): the transport keys are unknown, never the default.
const NO_TLS_DETAILS: &str = "the record has no tlsDetails: whether the request used TLS is unknown (aws:SecureTransport, s3:TlsVersion); give --context aws:SecureTransport=true or =false if you know";

/// A KMS call S3 made for a caller, with the object's ARN as
/// `aws:s3:arn` in its encryption context, stands for the S3 request it
/// served: `Decrypt` for a read, `GenerateDataKey` for a write (S3 User
/// Guide, "Using server-side encryption with AWS KMS keys (SSE-KMS)"; KMS
/// Developer Guide, "Decrypt" and "GenerateDataKey" CloudTrail examples).
fn kms_request(
    label: &str,
    record: &Value,
    event_name: &str,
) -> Result<Option<EventRequest>, EventError> {
    let Some(s3_arn) = text(
        record,
        &["requestParameters", "encryptionContext", "aws:s3:arn"],
    ) else {
        return Ok(None);
    };
    let operation = match event_name {
        "Decrypt" => Operation::Get,
        "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext" => Operation::Put,
        _ => return Ok(None),
    };
    let Some(rest) = s3_arn.strip_prefix("arn:aws:s3:::") else {
        return Err(EventError(format!(
            "{label}: aws:s3:arn `{}` is not an S3 bucket or object ARN",
            shown(s3_arn)
        )));
    };
    // With an S3 Bucket Key the context names the bucket, not the object:
    // the object then comes from --object.
    let (bucket, object) = match rest.split_once('/') {
        Some((bucket, key)) => (bucket.to_string(), Some(key.to_string())),
        None => (rest.to_string(), None),
    };
    // The network facts of this record are of S3's own connection to KMS,
    // not of the caller's request to S3: only the time and region carry over.
    let mut context = BTreeMap::new();
    let mut provenance = BTreeMap::new();
    common_context(record, &mut context, &mut provenance);
    let (principal, missing_principal) = principal_of(record);
    if let Some(field) = principal_field(record, principal.as_deref()) {
        provenance.insert("principal".to_string(), field.to_string());
    }
    let arn_field = "requestParameters.encryptionContext.aws:s3:arn".to_string();
    provenance.insert("bucket".to_string(), arn_field.clone());
    if object.is_some() {
        provenance.insert("object".to_string(), arn_field);
    }
    provenance.insert(
        "operations".to_string(),
        "eventName (S3's call to KMS)".to_string(),
    );
    Ok(Some(EventRequest {
        source: source_label(label, record, "KMS"),
        principal,
        missing_principal,
        bucket: Some(bucket),
        object,
        operations: vec![operation],
        context,
        time: event_time(label, record)?,
        notes: vec![
            "the record is S3's call to KMS: the caller's own network and TLS are not in it, so they are unknown (give them with --context)".to_string(),
        ],
        unknown: ["aws:SecureTransport", "s3:TlsVersion"]
            .map(str::to_string)
            .to_vec(),
        provenance,
    }))
}

/// `sourceIPAddress` and `vpcEndpointId`. A request through a VPC
/// endpoint carries `aws:SourceVpce` and the caller's private address as
/// `aws:VpcSourceIp`, and no `aws:SourceIp` (IAM User Guide, "AWS global
/// condition context keys"); a service name in `sourceIPAddress` (a call
/// made by a service) is no address at all.
///
/// `vpcEndpointAccountId`, the endpoint owner's account, is
/// `aws:VpceAccount` (IAM User Guide, "AWS global condition context keys":
/// the account that owns the VPC endpoint the request went through).
fn network_context(
    record: &Value,
    context: &mut BTreeMap<String, String>,
    provenance: &mut BTreeMap<String, String>,
) {
    let address = text(record, &["sourceIPAddress"])
        .filter(|address| address.parse::<std::net::IpAddr>().is_ok());
    let mut put = |key: &str, value: &str, field: &str| {
        context.insert(key.to_string(), value.to_string());
        provenance.insert(key.to_string(), field.to_string());
    };
    match text(record, &["vpcEndpointId"]) {
        Some(endpoint) => {
            put("aws:SourceVpce", endpoint, "vpcEndpointId");
            if let Some(address) = address {
                put("aws:VpcSourceIp", address, "sourceIPAddress");
            }
            if let Some(account) = text(record, &["vpcEndpointAccountId"])
                .filter(|account| crate::policy::arn::is_account_id(account))
            {
                put("aws:VpceAccount", account, "vpcEndpointAccountId");
            }
        }
        None => {
            if let Some(address) = address {
                put("aws:SourceIp", address, "sourceIPAddress");
            }
        }
    }
}

/// Region, time and session facts, of any record.
fn common_context(
    record: &Value,
    context: &mut BTreeMap<String, String>,
    provenance: &mut BTreeMap<String, String>,
) {
    if let Some(region) = text(record, &["awsRegion"]) {
        context.insert("aws:RequestedRegion".to_string(), region.to_string());
        provenance.insert("aws:RequestedRegion".to_string(), "awsRegion".to_string());
    }
    if let Some(time) = text(record, &["eventTime"]) {
        context.insert("aws:CurrentTime".to_string(), time.to_string());
        provenance.insert("aws:CurrentTime".to_string(), "eventTime".to_string());
    }
    // CloudTrail User Guide, "CloudTrail userIdentity element":
    // `sessionContext.attributes.mfaAuthenticated` says whether the
    // temporary credentials were issued with MFA.
    if let Some(mfa) = text(
        record,
        &[
            "userIdentity",
            "sessionContext",
            "attributes",
            "mfaAuthenticated",
        ],
    ) && (mfa == "true" || mfa == "false")
    {
        context.insert("aws:MultiFactorAuthPresent".to_string(), mfa.to_string());
        provenance.insert(
            "aws:MultiFactorAuthPresent".to_string(),
            "userIdentity.sessionContext.attributes.mfaAuthenticated".to_string(),
        );
    }
}

/// The `userIdentity` field the principal was read from.
fn principal_field(record: &Value, principal: Option<&str>) -> Option<&'static str> {
    principal?;
    match text(record, &["userIdentity", "type"]) {
        Some("AWSService") => Some("userIdentity.invokedBy"),
        _ => Some("userIdentity.arn"),
    }
}

/// The principal a record's `userIdentity` proves (CloudTrail User Guide,
/// "CloudTrail userIdentity element"): an IAM user, a root user, an
/// assumed-role session (its session ARN, not the role's) and a federated
/// user by their `arn`; an AWS service by `invokedBy`. An `AWSAccount`
/// identity, as the bucket owner's trail logs another account's caller,
/// names only the account.
fn principal_of(record: &Value) -> (Option<String>, Option<String>) {
    let identity = record.get("userIdentity").unwrap_or(&Value::Null);
    let kind = text(identity, &["type"]).unwrap_or("");
    match kind {
        "IAMUser" | "AssumedRole" | "FederatedUser" | "Root" => match text(identity, &["arn"]) {
            Some(arn) => (Some(arn.to_string()), None),
            None => (
                None,
                Some(format!("its `{kind}` userIdentity has no `arn`")),
            ),
        },
        "AWSService" => match text(identity, &["invokedBy"]) {
            Some(service) => (Some(service.to_string()), None),
            None => (
                None,
                Some("its `AWSService` userIdentity has no `invokedBy`".to_string()),
            ),
        },
        "AWSAccount" => {
            let account = shown(text(identity, &["accountId"]).unwrap_or("an unnamed account"));
            (
                None,
                Some(format!(
                    "its userIdentity is `AWSAccount` {account}, which names an account, not a principal (another account's caller as the bucket owner's trail records it)"
                )),
            )
        }
        // CloudTrail User Guide, "CloudTrail userIdentity element": an
        // `IdentityCenterUser` is a call made on behalf of a workforce user
        // to Identity Center itself; that user reaches S3 through a session
        // of the permission set's role, which the S3 record names as an
        // `AssumedRole`.
        "IdentityCenterUser" => (
            None,
            Some("its userIdentity is `IdentityCenterUser`, which names a workforce user, not an IAM principal (S3 sees that user as a session of the permission set's role, `arn:aws:sts::ACCOUNT:assumed-role/AWSReservedSSO_NAME_ID/USER`)".to_string()),
        ),
        "" => (None, Some("it has no userIdentity type".to_string())),
        other => (
            None,
            Some(format!(
                "its userIdentity type `{}` names no IAM principal the tool can judge",
                shown(other)
            )),
        ),
    }
}

fn source_label(label: &str, record: &Value, service: &str) -> String {
    let name = shown(text(record, &["eventName"]).unwrap_or(""));
    match text(record, &["eventID"]).map(shown) {
        Some(id) => format!("{label} ({service} {name}, eventID {id})"),
        None => format!("{label} ({service} {name})"),
    }
}

fn event_time(label: &str, record: &Value) -> Result<Option<DateTime<Utc>>, EventError> {
    let Some(time) = text(record, &["eventTime"]) else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(time)
        .map(|time| Some(time.with_timezone(&Utc)))
        .map_err(|error| {
            EventError(format!(
                "{label}: eventTime `{}` is not an ISO 8601 time: {error}",
                shown(time)
            ))
        })
}

/// The same request as logged again: everything but when it was made.
fn same_request(one: &EventRequest, other: &EventRequest) -> bool {
    let without_time = |request: &EventRequest| {
        let mut context = request.context.clone();
        context.remove("aws:CurrentTime");
        (
            request.principal.clone(),
            request.bucket.clone(),
            request.object.clone(),
            request.operations.clone(),
            context,
        )
    };
    without_time(one) == without_time(other)
}

#[cfg(test)]
mod tests;
