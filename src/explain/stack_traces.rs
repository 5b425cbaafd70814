//! Reading the AccessDenied texts that SDKs and tools other than the AWS
//! CLI print around S3's (or KMS's) own message: the AWS SDK for Java 1.x
//! (`AmazonS3Exception: MESSAGE (Service: Amazon S3; Status Code: 403;
//! Error Code: AccessDenied; Request ID: ...)`) and 2.x (`S3Exception:
//! MESSAGE (Service: S3, Status Code: 403, Request ID: ...)`), Hadoop S3A
//! (`java.nio.file.AccessDeniedException: s3a://bucket/key: getFileStatus
//! on s3a://bucket/key: ...` around either SDK's), the AWS SDK for .NET
//! (`Amazon.S3.AmazonS3Exception: MESSAGE`), the AWS Tools for PowerShell
//! (`Read-S3Object : MESSAGE`, then the cmdlet's line) and s3cmd (`ERROR: S3
//! error: 403 (AccessDenied): MESSAGE`).
//!
//! Each is turned into the AWS CLI's own form (`An error occurred (CODE)
//! when calling the OP operation: MESSAGE`), which [`super::parse`] reads
//! as before, plus what the wrapper alone carries: the tool, the request
//! id, and the bucket and key of a URL or a cmdlet's parameters.

use super::parse::{Direction, Transfer};

/// What a tool's wrapper says around the service's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unwrapped {
    /// The tool or SDK that printed the text, in words.
    pub printed_by: &'static str,
    /// The service's message with the AWS CLI's prefix.
    pub text: String,
    pub request_id: Option<String>,
    pub transfer: Option<Transfer>,
}

/// The wrapper of `text` (one line, whitespace collapsed), if it is one
/// this module knows.
pub(super) fn unwrap(text: &str) -> Option<Unwrapped> {
    hadoop_s3a(text)
        .or_else(|| java_sdk(text))
        .or_else(|| powershell(text))
        .or_else(|| dotnet(text))
        .or_else(|| s3cmd(text))
}

/// The request id of any text that carries one: an SDK's `Request ID:
/// X`, S3's XML `<RequestId>X</RequestId>`, a JSON `"RequestId": "X"`.
pub(super) fn request_id(text: &str) -> Option<String> {
    if let Some(start) = text.find("<RequestId>") {
        let rest = &text[start + "<RequestId>".len()..];
        let end = rest.find("</RequestId>")?;
        return clean_id(&rest[..end]);
    }
    let lower = text.to_ascii_lowercase();
    for marker in [
        "request id: ",
        "requestid: ",
        "\"requestid\": \"",
        "requestid\":\"",
    ] {
        if let Some(at) = lower.find(marker) {
            // The extended request id (`S3 Extended Request ID:`) comes
            // after the request id; a `find` takes the first.
            let rest = &text[at + marker.len()..];
            let end = rest.find([';', ',', ')', '"', ' ']).unwrap_or(rest.len());
            return clean_id(&rest[..end]);
        }
    }
    None
}

fn clean_id(id: &str) -> Option<String> {
    let id = id.trim();
    (!id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=' | '+' | '/')))
    .then(|| id.to_string())
}

/// The `(Service: ...; Status Code: ...; Error Code: ...)` details of a
/// Java SDK exception: `;`-separated in 1.x, `,`-separated in 2.x.
#[derive(Debug, Default)]
struct JavaDetails {
    status: Option<String>,
    code: Option<String>,
    request_id: Option<String>,
}

fn java_details(details: &str) -> JavaDetails {
    let mut found = JavaDetails::default();
    for part in details.split([';', ',']) {
        let Some((name, value)) = part.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "status code" => found.status = Some(value.to_string()),
            // Hadoop's S3A logs `Error Code: 403 Forbidden` for a HEAD.
            "error code" => {
                found.code = value.split_whitespace().next().map(str::to_string);
            }
            "request id" => found.request_id = clean_id(value),
            _ => {}
        }
    }
    found
}

/// The service's message and the SDK's details of the innermost Java SDK
/// exception in `text`, and which SDK it was.
fn java_exception(text: &str) -> Option<(&'static str, String, JavaDetails)> {
    // The innermost exception is the last one named (S3A and application
    // frameworks wrap the SDK's in their own); stack frames name the
    // packages too, but never as `CLASS: message`.
    let (printed_by, after) = [
        ("software.amazon.awssdk.", "AWS SDK for Java 2.x"),
        ("com.amazonaws.", "AWS SDK for Java 1.x"),
    ]
    .into_iter()
    .flat_map(|(package, sdk)| {
        text.match_indices(package).filter_map(move |(at, _)| {
            let rest = &text[at..];
            let (class, after) = rest.split_once(": ")?;
            (class.ends_with("Exception") && !class.contains([' ', '(', '$']))
                .then_some((at, sdk, after))
        })
    })
    .max_by_key(|(at, _, _)| *at)
    .map(|(_, sdk, after)| (sdk, after))?;
    let details_at = after.find("(Service: ")?;
    let message = after[..details_at].trim().to_string();
    let details = &after[details_at + "(Service: ".len()..];
    let details = &details[..details.find(')').unwrap_or(details.len())];
    let mut details = java_details(details);
    // 2.x names no error code: the status stands in, as the AWS CLI's HEAD
    // form does.
    if details.code.is_none() {
        details.code = details.status.clone();
    }
    Some((printed_by, message, details))
}

fn cli_form(code: Option<&str>, operation: Option<&str>, message: &str) -> String {
    match (code, operation) {
        (Some(code), Some(operation)) => {
            format!("An error occurred ({code}) when calling the {operation} operation: {message}")
        }
        (Some(code), None) => format!("({code}) {message}"),
        (None, Some(operation)) => {
            format!("An error occurred when calling the {operation} operation: {message}")
        }
        (None, None) => message.to_string(),
    }
}

/// `s3a://bucket/key` at the start of `text`.
fn s3_url(text: &str, scheme: &str) -> Option<(String, Option<String>)> {
    let at = text.find(scheme)?;
    let url = &text[at + scheme.len()..];
    let end = url
        .find(|c: char| c.is_whitespace() || c == '\'' || c == '"')
        .unwrap_or(url.len());
    let url = url[..end].trim_end_matches([':', ',', '.']);
    let (bucket, key) = match url.split_once('/') {
        Some((bucket, key)) => (bucket, (!key.is_empty()).then(|| key.to_string())),
        None => (url, None),
    };
    (!bucket.is_empty()).then(|| (bucket.to_string(), key))
}

/// Hadoop S3A: `java.nio.file.AccessDeniedException: s3a://b/k:
/// getFileStatus on s3a://b/k: <SDK exception>`. The S3A operation names
/// the S3 call (Apache Hadoop, "Troubleshooting S3A": `getFileStatus` is
/// the HEAD of a path, `open`/`read` its GET, `PUT` and `upload` writes).
fn hadoop_s3a(text: &str) -> Option<Unwrapped> {
    let start = text.find("AccessDeniedException: s3a://")?;
    let rest = &text[start + "AccessDeniedException: ".len()..];
    let (bucket, key) = s3_url(rest, "s3a://")?;
    let after_url = rest.split_once(": ").map_or("", |(_, after)| after);
    let verb = after_url.split_whitespace().next().unwrap_or_default();
    let (operation, direction) = match verb.to_ascii_lowercase().as_str() {
        "getfilestatus" | "getobjectmetadata" => (Some("HeadObject"), Direction::Download),
        "open" | "read" | "reopen" | "lazyseek" => (Some("GetObject"), Direction::Download),
        "put" | "putobject" | "upload" | "writing" => (Some("PutObject"), Direction::Upload),
        "initiate" | "initiatemultipartupload" | "upload_part" | "uploadpart" => {
            (Some("CreateMultipartUpload"), Direction::Upload)
        }
        "listobjects" | "liststatus" | "listing" => (Some("ListObjectsV2"), Direction::Download),
        "copyfile" | "copy" => (Some("CopyObject"), Direction::Copy),
        _ => (None, Direction::Download),
    };
    let (code, message, request_id) = match java_exception(rest) {
        Some((_, message, details)) => (details.code, message, details.request_id),
        None => (None, "Access Denied".to_string(), None),
    };
    Some(Unwrapped {
        printed_by: "Hadoop S3A",
        text: cli_form(code.as_deref(), operation, &message),
        request_id,
        transfer: Some(Transfer {
            direction,
            bucket,
            key,
        }),
    })
}

/// AWS SDK for Java 1.x and 2.x exceptions.
fn java_sdk(text: &str) -> Option<Unwrapped> {
    let (printed_by, message, details) = java_exception(text)?;
    Some(Unwrapped {
        printed_by,
        text: cli_form(details.code.as_deref(), None, &message),
        request_id: details.request_id,
        transfer: s3_url(text, "s3://").map(|(bucket, key)| Transfer {
            direction: Direction::Download,
            bucket,
            key,
        }),
    })
}

/// The AWS SDK for .NET: `Amazon.S3.AmazonS3Exception: MESSAGE ---> ...`
/// and its KMS counterpart, `Amazon.KeyManagementService.Model.
/// AccessDeniedException` (or a `KMSInvalidStateException`, ...).
fn dotnet(text: &str) -> Option<Unwrapped> {
    let (at, class) = [
        "Amazon.S3.AmazonS3Exception",
        "Amazon.KeyManagementService.Model.",
        "Amazon.KeyManagementService.AmazonKeyManagementServiceException",
    ]
    .into_iter()
    .find_map(|class| text.find(class).map(|at| (at, class)))?;
    let rest = &text[at..];
    let (name, message) = rest.split_once(": ")?;
    let message = until_any(
        message,
        &[" ---> ", " at Amazon.", " at System.", " --- End"],
    );
    let code = if class.ends_with("Model.") {
        // `AccessDeniedException`, `DisabledException`, ...: KMS's error
        // code is the class name.
        name.rsplit('.').next().map(str::to_string)
    } else if message
        .trim()
        .trim_end_matches('.')
        .eq_ignore_ascii_case("access denied")
    {
        Some("AccessDenied".to_string())
    } else {
        None
    };
    Some(Unwrapped {
        printed_by: "AWS SDK for .NET",
        text: cli_form(code.as_deref(), None, message.trim()),
        request_id: request_id(text),
        transfer: s3_url(text, "s3://").map(|(bucket, key)| Transfer {
            direction: Direction::Download,
            bucket,
            key,
        }),
    })
}

fn until_any<'a>(text: &'a str, markers: &[&str]) -> &'a str {
    let end = markers
        .iter()
        .filter_map(|marker| text.find(marker))
        .min()
        .unwrap_or(text.len());
    &text[..end]
}

/// The S3 cmdlets of the AWS Tools for PowerShell and the call each makes
/// (AWS Tools for PowerShell Cmdlet Reference).
const CMDLETS: &[(&str, &str, Direction)] = &[
    ("Read-S3Object", "GetObject", Direction::Download),
    ("Write-S3Object", "PutObject", Direction::Upload),
    ("Copy-S3Object", "CopyObject", Direction::Copy),
    ("Get-S3ObjectMetadata", "HeadObject", Direction::Download),
    ("Get-S3Object", "ListObjects", Direction::Download),
];

/// PowerShell: `Read-S3Object : Access Denied`, then `At line:1 char:1`,
/// `+ Read-S3Object -BucketName b -Key k -File f` and the error record's
/// `CategoryInfo` and `FullyQualifiedErrorId`.
fn powershell(text: &str) -> Option<Unwrapped> {
    let (at, cmdlet, operation, direction) =
        CMDLETS.iter().find_map(|(cmdlet, op, direction)| {
            text.find(&format!("{cmdlet} : "))
                .map(|at| (at, *cmdlet, *op, *direction))
        })?;
    let message = &text[at + cmdlet.len() + " : ".len()..];
    let message = until_any(message, &[" At line:", " At ", " + "]).trim();
    let parameter = |name: &str| {
        let lower = text.to_ascii_lowercase();
        let at = lower.find(&format!("-{} ", name.to_ascii_lowercase()))?;
        let value = text[at + name.len() + 2..].split_whitespace().next()?;
        let value = value.trim_matches(|c| c == '\'' || c == '"');
        (!value.is_empty() && !value.starts_with('-')).then(|| value.to_string())
    };
    let bucket = parameter("BucketName");
    let key = parameter("Key").or_else(|| parameter("SourceKey"));
    let code = message
        .trim_end_matches('.')
        .eq_ignore_ascii_case("access denied")
        .then_some("AccessDenied");
    Some(Unwrapped {
        printed_by: "AWS Tools for PowerShell",
        text: cli_form(code, Some(operation), message),
        request_id: request_id(text),
        transfer: bucket.map(|bucket| Transfer {
            direction,
            bucket,
            key,
        }),
    })
}

/// s3cmd: `ERROR: S3 error: 403 (AccessDenied): Access Denied`, after the
/// command line (`s3cmd get s3://b/k`) or its transfer line (`download:
/// 's3://b/k' -> './k'`).
fn s3cmd(text: &str) -> Option<Unwrapped> {
    let at = text.find("S3 error: ")?;
    let rest = &text[at + "S3 error: ".len()..];
    let (status, rest) = rest.split_once(' ')?;
    if !status.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (code, message) = match rest.strip_prefix('(').and_then(|r| r.split_once("): ")) {
        Some((code, message)) => (Some(code.to_string()), message),
        None => (
            Some(status.to_string()),
            rest.trim_start_matches(':').trim(),
        ),
    };
    let lower = text.to_ascii_lowercase();
    let (operation, direction) = if lower.contains("s3cmd put") || lower.contains("upload:") {
        ("PutObject", Direction::Upload)
    } else if lower.contains("s3cmd ls") || lower.contains("s3cmd la") {
        ("ListObjects", Direction::Download)
    } else if lower.contains("s3cmd cp") || lower.contains("s3cmd mv") {
        ("CopyObject", Direction::Copy)
    } else if lower.contains("s3cmd info") {
        ("HeadObject", Direction::Download)
    } else {
        ("GetObject", Direction::Download)
    };
    let known =
        lower.contains("s3cmd ") || lower.contains("download:") || lower.contains("upload:");
    Some(Unwrapped {
        printed_by: "s3cmd",
        text: cli_form(code.as_deref(), known.then_some(operation), message.trim()),
        request_id: request_id(text),
        transfer: s3_url(text, "s3://").map(|(bucket, key)| Transfer {
            direction,
            bucket,
            key,
        }),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::{MessageKind, explain};
    use crate::diagnosis::LinkId;

    const SESSION: &str = "arn:aws:sts::222222222222:assumed-role/etl/run-7";
    const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn java_v1_access_denied_with_its_request_id() {
        // A stack trace as a log keeps it: wrapped, with frames below.
        let got = explain(
            "Exception in thread \"main\" com.amazonaws.services.s3.model.AmazonS3Exception: Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; Request ID: 7Q1ZJ2K4M3N5B6V8;\n S3 Extended Request ID: bWFkZSB1cCBmb3IgYSB0ZXN0IG9mIGV4dGVuZGVkIHJlcXVlc3QgaWQ=; Proxy: null), S3 Extended Request ID: bWFkZSB1cCBmb3IgYSB0ZXN0IG9mIGV4dGVuZGVkIHJlcXVlc3QgaWQ=\n\tat com.amazonaws.http.AmazonHttpClient$RequestExecutor.handleErrorResponse(AmazonHttpClient.java:1879)\n\tat com.amazonaws.services.s3.AmazonS3Client.getObject(AmazonS3Client.java:1516)",
        );
        assert_eq!(got.kind, MessageKind::BareAccessDenied);
        assert_eq!(got.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(got.request_id.as_deref(), Some("7Q1ZJ2K4M3N5B6V8"));
        assert_eq!(got.printed_by.as_deref(), Some("AWS SDK for Java 1.x"));
        assert_eq!(got.suspects.first(), Some(&LinkId::BucketPolicy));
    }

    #[test]
    fn java_v2_with_kms_refusal_relayed_by_s3() {
        let got = explain(&format!(
            "software.amazon.awssdk.services.s3.model.S3Exception: User: {SESSION} is not authorized to perform: kms:Decrypt on resource: {KEY} because no resource-based policy allows the kms:Decrypt action (Service: S3, Status Code: 403, Request ID: X9Y8Z7W6V5U4T3S2, Extended Request ID: aGVsbG8=)"
        ));
        assert_eq!(got.kind, MessageKind::NotAuthorized);
        assert_eq!(got.link, Some(LinkId::KeyPolicy));
        assert_eq!(got.principal.as_deref(), Some(SESSION));
        assert_eq!(got.request_id.as_deref(), Some("X9Y8Z7W6V5U4T3S2"));
        assert_eq!(got.printed_by.as_deref(), Some("AWS SDK for Java 2.x"));
        assert_eq!(got.error_code.as_deref(), Some("403"));
    }

    #[test]
    fn hadoop_s3a_get_file_status_is_a_head_of_the_path() {
        let got = explain(
            "java.nio.file.AccessDeniedException: s3a://account-a-bucket/warehouse/sales/part-0000.parquet: getFileStatus on s3a://account-a-bucket/warehouse/sales/part-0000.parquet: com.amazonaws.services.s3.model.AmazonS3Exception: Forbidden (Service: Amazon S3; Status Code: 403; Error Code: 403 Forbidden; Request ID: 4B5C6D7E8F9A0B1C; S3 Extended Request ID: ZXhhbXBsZQ==; Proxy: null), S3 Extended Request ID: ZXhhbXBsZQ==:403 Forbidden\n\tat org.apache.hadoop.fs.s3a.S3AUtils.translateException(S3AUtils.java:255)",
        );
        assert_eq!(got.kind, MessageKind::HeadForbidden);
        assert_eq!(got.bucket.as_deref(), Some("account-a-bucket"));
        assert_eq!(
            got.object.as_deref(),
            Some("warehouse/sales/part-0000.parquet")
        );
        assert_eq!(got.api_operation.as_deref(), Some("HeadObject"));
        assert_eq!(got.request_id.as_deref(), Some("4B5C6D7E8F9A0B1C"));
        assert_eq!(got.printed_by.as_deref(), Some("Hadoop S3A"));
        assert!(got.command.unwrap().contains("--op head"));
    }

    #[test]
    fn hadoop_s3a_over_sdk_v2_open_is_a_get() {
        let got = explain(
            "java.nio.file.AccessDeniedException: s3a://account-a-bucket/in/x.csv: open s3a://account-a-bucket/in/x.csv at 0 on s3a://account-a-bucket/in/x.csv: software.amazon.awssdk.services.s3.model.S3Exception: Access Denied (Service: S3, Status Code: 403, Request ID: QWERTY123456, Extended Request ID: abc=):AccessDenied",
        );
        assert_eq!(got.kind, MessageKind::BareAccessDenied);
        assert_eq!(got.api_operation.as_deref(), Some("GetObject"));
        assert_eq!(got.object.as_deref(), Some("in/x.csv"));
        assert!(got.command.unwrap().contains("--op get"));
    }

    #[test]
    fn dotnet_and_its_kms_exception() {
        let got = explain(
            "Unhandled exception. Amazon.S3.AmazonS3Exception: Access Denied\n ---> Amazon.Runtime.Internal.HttpErrorResponseException: Exception of type 'Amazon.Runtime.Internal.HttpErrorResponseException' was thrown.\n   at Amazon.Runtime.HttpWebRequestMessage.ProcessHttpResponseMessage(HttpResponseMessage responseMessage)",
        );
        assert_eq!(got.kind, MessageKind::BareAccessDenied);
        assert_eq!(got.printed_by.as_deref(), Some("AWS SDK for .NET"));
        let got = explain(&format!(
            "Amazon.KeyManagementService.Model.DisabledException: {KEY} is disabled.\n   at Amazon.Runtime.Internal.HttpErrorResponseExceptionHandler.HandleExceptionStream"
        ));
        assert_eq!(got.kind, MessageKind::KeyDisabled);
        assert_eq!(got.link, Some(LinkId::KeyState));
    }

    #[test]
    fn powershell_names_the_cmdlet_bucket_and_key() {
        let got = explain(
            "PS C:\\> Read-S3Object -BucketName account-a-bucket -Key reports/data.csv -File data.csv\nRead-S3Object : Access Denied\nAt line:1 char:1\n+ Read-S3Object -BucketName account-a-bucket -Key reports/data.csv -File ...\n+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n    + CategoryInfo          : InvalidOperation: (Amazon.PowerShe...adS3ObjectCmdlet:ReadS3ObjectCmdlet) [Read-S3Object], InvalidOperationException\n    + FullyQualifiedErrorId : Amazon.S3.AmazonS3Exception,Amazon.PowerShell.Cmdlets.S3.ReadS3ObjectCmdlet",
        );
        assert_eq!(got.kind, MessageKind::BareAccessDenied);
        assert_eq!(got.printed_by.as_deref(), Some("AWS Tools for PowerShell"));
        assert_eq!(got.bucket.as_deref(), Some("account-a-bucket"));
        assert_eq!(got.object.as_deref(), Some("reports/data.csv"));
        assert_eq!(got.api_operation.as_deref(), Some("GetObject"));
    }

    #[test]
    fn s3cmd_with_its_command_line() {
        let got = explain(
            "$ s3cmd get s3://account-a-bucket/reports/data.csv\ndownload: 's3://account-a-bucket/reports/data.csv' -> './data.csv'  [1 of 1]\nERROR: S3 error: 403 (AccessDenied): Access Denied",
        );
        assert_eq!(got.kind, MessageKind::BareAccessDenied);
        assert_eq!(got.printed_by.as_deref(), Some("s3cmd"));
        assert_eq!(got.bucket.as_deref(), Some("account-a-bucket"));
        assert_eq!(got.object.as_deref(), Some("reports/data.csv"));
        assert_eq!(got.api_operation.as_deref(), Some("GetObject"));
        assert_eq!(got.error_code.as_deref(), Some("AccessDenied"));
    }

    #[test]
    fn a_kms_access_denied_without_a_principal_still_points_at_kms() {
        let got = explain(
            "com.amazonaws.services.s3.model.AmazonS3Exception: The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access. (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied; Request ID: R1; S3 Extended Request ID: E1)",
        );
        assert_eq!(got.kind, MessageKind::CiphertextKeyUnavailable);
        assert_eq!(got.request_id.as_deref(), Some("R1"));
        let got = explain(
            "(KMS.AccessDeniedException) The caller is not allowed to use kms:Decrypt on the key of this object",
        );
        assert_eq!(got.kind, MessageKind::KmsAccessDenied);
        assert_eq!(got.action.as_deref(), Some("kms:Decrypt"));
        assert_eq!(got.suspects.first(), Some(&LinkId::KeyPolicy));
    }

    #[test]
    fn request_ids_of_xml_and_json() {
        assert_eq!(
            super::request_id(
                "<Error><Code>AccessDenied</Code><RequestId>ABC123</RequestId></Error>"
            )
            .as_deref(),
            Some("ABC123")
        );
        assert_eq!(super::request_id("no id here"), None);
    }
}
