//! The request's words as a person types or pastes them, checked before
//! they are looked up: an ARN or name copied with a space or line break
//! around it, an object given as `s3://BUCKET/KEY` or as its ARN. Each is
//! refused with the value to give instead, so that no report (and no fix)
//! ever names `user/dilip ` or a key that holds the bucket's name. The
//! command line and access-test files share these checks.

/// An ARN or a bucket name: no whitespace anywhere (neither can hold any; a principal ARN's name is `[\w+=,.@-]`, IAM User
/// Guide, "IAM object quotas and names").
pub fn plain_word(text: &str) -> Result<(), String> {
    unpadded(text)?;
    if text.chars().any(char::is_whitespace) {
        return Err(format!("{text:?} holds whitespace, which it cannot"));
    }
    Ok(())
}

/// A principal: as [`plain_word`], except that a CloudFront origin access
/// identity's ARN holds spaces in its name by AWS's own spelling
/// (`arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity ID`).
pub fn principal_word(text: &str) -> Result<(), String> {
    unpadded(text)?;
    if crate::policy::arn::is_origin_access_identity(text) {
        return Ok(());
    }
    plain_word(text)
}

/// A value that may hold spaces inside (an external id, as the IAM User
/// Guide's own example `Unique ID Assigned by Example Corp`) but not around.
pub fn unpadded(text: &str) -> Result<(), String> {
    let trimmed = text.trim();
    if trimmed != text {
        return Err(format!(
            "{text:?} has whitespace around it (copied with a space or line break?): give {trimmed:?}"
        ));
    }
    Ok(())
}

/// An object key: the key alone, not `s3://BUCKET/KEY` nor the object's
/// ARN. (A key may hold spaces, so whitespace is kept as given.)
pub fn object_key(key: &str) -> Result<(), String> {
    for prefix in ["s3://", "arn:aws:s3:::"] {
        if let Some(rest) = key.strip_prefix(prefix) {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            return Err(if key.is_empty() {
                format!("{prefix}{rest} names a bucket, not an object: --bucket {bucket}")
            } else {
                format!("give the key alone, without `{prefix}{bucket}/`: --object {key}")
            });
        }
    }
    Ok(())
}

/// A service principal name, `NAME.amazonaws.com` (`--via-service`).
pub fn service_principal(text: &str) -> Result<(), String> {
    let name = text.strip_suffix(".amazonaws.com").unwrap_or_default();
    let word = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if name.split('.').all(word) {
        Ok(())
    } else {
        Err(format!(
            "`{text}` is not a service principal: use `NAME.amazonaws.com` (`athena.amazonaws.com`)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_words_and_object_urls_are_refused_with_the_value_to_give() {
        assert!(plain_word("arn:aws:iam::222222222222:user/dilip").is_ok());
        let error = plain_word("arn:aws:iam::222222222222:user/dilip ").unwrap_err();
        assert!(
            error.contains("give \"arn:aws:iam::222222222222:user/dilip\""),
            "{error}"
        );
        assert!(plain_word("arn:aws:iam::2:user/a\n").is_err());
        assert!(plain_word("arn:aws:iam::2:user/a b").is_err());
        assert!(object_key("reports/data.csv").is_ok());
        assert!(object_key("reports/my data.csv").is_ok());
        assert_eq!(
            object_key("s3://b/reports/data.csv").unwrap_err(),
            "give the key alone, without `s3://b/`: --object reports/data.csv"
        );
        assert_eq!(
            object_key("arn:aws:s3:::b/k").unwrap_err(),
            "give the key alone, without `arn:aws:s3:::b/`: --object k"
        );
    }
}
