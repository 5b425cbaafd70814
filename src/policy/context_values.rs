//! Validation of `--context` values by the type AWS gives each condition
//! key (IAM User Guide, "AWS global condition context keys"; S3 and KMS
//! "Actions, resources, and condition keys"). A value AWS would never put in
//! a request context (`aws:SourceIp=203.0.113.5:443`,
//! `aws:SecureTransport=flase`) matches nothing, so a condition on it would be
//! judged against a value that cannot occur: it is refused instead.

use crate::policy::arn::Arn;
use crate::policy::condition_values;

/// The type of a condition key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Ip,
    Bool,
    Date,
    Number,
    Arn,
    /// One of a fixed set of values (an S3 header such as
    /// `x-amz-server-side-encryption`).
    OneOf(&'static [&'static str]),
    String,
}

impl KeyType {
    /// The form a value must have, for messages.
    pub fn expected(self) -> String {
        match self {
            KeyType::Ip => "an IP address such as `203.0.113.7` or `2001:db8::1` (no port)".into(),
            KeyType::Bool => "`true` or `false`".into(),
            KeyType::Date => {
                "a date such as `2026-01-31T12:00:00Z` (ISO 8601) or epoch seconds".into()
            }
            KeyType::Number => "a number such as `10`".into(),
            KeyType::Arn => "an ARN such as `arn:aws:iam::111122223333:role/name`".into(),
            KeyType::OneOf(values) => {
                let names: Vec<String> = values.iter().map(|value| format!("`{value}`")).collect();
                format!("one of {}", names.join(", "))
            }
            KeyType::String => "a non-empty string".into(),
        }
    }
}

/// Keys with a type other than string. Matched case-insensitively, as AWS
/// matches condition key names.
const TYPED_KEYS: &[(&str, KeyType)] = &[
    ("aws:SourceIp", KeyType::Ip),
    ("aws:VpcSourceIp", KeyType::Ip),
    ("aws:SecureTransport", KeyType::Bool),
    ("aws:MultiFactorAuthPresent", KeyType::Bool),
    ("aws:ViaAWSService", KeyType::Bool),
    ("aws:PrincipalIsAWSService", KeyType::Bool),
    ("kms:GrantIsForAWSResource", KeyType::Bool),
    ("kms:ReEncryptOnSameKey", KeyType::Bool),
    (
        "s3:x-amz-server-side-encryption-bucket-key-enabled",
        KeyType::Bool,
    ),
    ("aws:CurrentTime", KeyType::Date),
    ("aws:TokenIssueTime", KeyType::Date),
    ("aws:EpochTime", KeyType::Date),
    ("aws:MultiFactorAuthAge", KeyType::Number),
    ("s3:max-keys", KeyType::Number),
    ("s3:signatureAge", KeyType::Number),
    ("s3:TlsVersion", KeyType::Number),
    ("s3:object-lock-remaining-retention-days", KeyType::Number),
    ("aws:PrincipalArn", KeyType::Arn),
    ("aws:SourceArn", KeyType::Arn),
    ("kms:CallerAccount", KeyType::String),
    (
        "s3:x-amz-server-side-encryption",
        KeyType::OneOf(&["AES256", "aws:kms", "aws:kms:dsse"]),
    ),
];

/// The type AWS gives `key`; string for every key not listed.
pub fn key_type(key: &str) -> KeyType {
    TYPED_KEYS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(key))
        .map(|(_, kind)| *kind)
        .unwrap_or(KeyType::String)
}

/// Why a `--context` value was refused: names the key and the expected form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--context `{key}`: `{value}` is not {expected}")]
pub struct ContextValueError {
    pub key: String,
    pub value: String,
    pub expected: String,
}

impl ContextValueError {
    /// The message without the flag name, for a caller (clap) that already
    /// names `--context`.
    pub fn expected_form(&self) -> String {
        format!("`{}`: `{}` is not {}", self.key, self.value, self.expected)
    }
}

/// Checks one `--context` value against its key's type.
pub fn validate(key: &str, value: &str) -> Result<(), ContextValueError> {
    let kind = key_type(key);
    let valid = !value.is_empty()
        && match kind {
            KeyType::Ip => condition_values::is_ip_address(value),
            KeyType::Bool => value == "true" || value == "false",
            KeyType::Date => condition_values::is_date(value),
            KeyType::Number => condition_values::is_number(value),
            KeyType::Arn => Arn::parse(value).is_ok(),
            KeyType::OneOf(values) => values.contains(&value),
            KeyType::String => true,
        };
    if valid {
        Ok(())
    } else {
        Err(ContextValueError {
            key: key.to_string(),
            value: value.to_string(),
            expected: kind.expected(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn values_aws_could_not_send_are_refused() {
        for (key, value) in [
            ("aws:SourceIp", "203.0.113.5:443"),
            ("aws:SourceIp", "not-an-ip"),
            ("aws:SourceIp", ""),
            ("aws:SourceIp", "203.0.113.0/24"),
            ("aws:sourceip", "256.0.0.1"),
            ("aws:SecureTransport", "flase"),
            ("aws:SecureTransport", "yes"),
            ("aws:CurrentTime", "tomorrow"),
            ("aws:MultiFactorAuthAge", "an hour"),
            ("s3:max-keys", "inf"),
            ("aws:PrincipalArn", "arn:aws:iam"),
            ("aws:SourceArn", "bucket"),
            ("s3:x-amz-server-side-encryption", "AWS:KMS"),
            ("s3:x-amz-acl", ""),
        ] {
            let error = validate(key, value).expect_err(&format!("{key}={value}"));
            assert!(error.to_string().contains(&format!("`{key}`")), "{error}");
        }
    }

    #[test]
    fn values_of_the_right_type_pass() {
        for (key, value) in [
            ("aws:SourceIp", "203.0.113.5"),
            ("aws:SourceIp", "2001:db8::1"),
            ("aws:SecureTransport", "false"),
            ("aws:CurrentTime", "2026-01-31T12:00:00Z"),
            ("aws:EpochTime", "1769860800"),
            ("aws:MultiFactorAuthAge", "3600"),
            ("aws:PrincipalArn", "arn:aws:iam::111122223333:role/r"),
            ("s3:x-amz-server-side-encryption", "aws:kms"),
            ("s3:x-amz-acl", "private"),
            ("aws:SourceVpce", "vpce-1a2b3c4d"),
        ] {
            validate(key, value).unwrap();
        }
    }
}
