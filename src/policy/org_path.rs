//! AWS Organizations paths as AWS puts them in `aws:PrincipalOrgPaths` and
//! `aws:ResourceOrgPaths`: the organization id, the root id and the id of
//! every OU from the root down to the account's parent, each followed by a
//! `/` (`o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/`). The
//! account itself is not in it: the IAM User Guide's `aws:PrincipalOrgPaths`
//! example matches "principals in accounts that are attached directly to the
//! `ou-ab12-22222222` OU" with `ForAnyValue:StringEquals` on exactly that
//! text.
//!
//! Id shapes from the AWS Organizations API Reference (`Organization`,
//! `Root`, `Parent`): `o-` and 10 to 32 lowercase letters or digits; `r-` and
//! 4 to 32; `ou-`, 4 to 32, `-`, 8 to 32.

/// Why a path is not one AWS would build; lowercase, user input in
/// backticks.
pub fn validate(path: &str) -> Result<(), String> {
    let expected = "expected `o-<id>/r-<id>/` followed by `ou-<id>-<id>/` per OU, as in `o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/`";
    let Some(body) = path.strip_suffix('/') else {
        return Err(format!("`{path}` does not end with `/`; {expected}"));
    };
    let mut segments = body.split('/');
    let organization = segments.next().unwrap_or_default();
    if !is_id(organization, "o-", 10) {
        return Err(format!(
            "`{organization}` in `{path}` is not an organization id; {expected}"
        ));
    }
    let root = segments.next().unwrap_or_default();
    if !is_id(root, "r-", 4) {
        return Err(format!("`{root}` in `{path}` is not a root id; {expected}"));
    }
    for ou in segments {
        if !is_ou(ou) {
            return Err(format!("`{ou}` in `{path}` is not an OU id; {expected}"));
        }
    }
    Ok(())
}

/// The organization id a valid path starts with.
pub fn organization_of(path: &str) -> &str {
    path.split('/').next().unwrap_or_default()
}

/// The path of an account whose parents, from the root down, are
/// `parents` (root id first).
pub fn build(organization: &str, parents: &[String]) -> String {
    let mut path = format!("{organization}/");
    for parent in parents {
        path.push_str(parent);
        path.push('/');
    }
    path
}

fn lower_alphanumeric(text: &str, min: usize) -> bool {
    (min..=32).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

fn is_id(text: &str, prefix: &str, min: usize) -> bool {
    text.strip_prefix(prefix)
        .is_some_and(|rest| lower_alphanumeric(rest, min))
}

fn is_ou(text: &str) -> bool {
    text.strip_prefix("ou-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(root, own)| lower_alphanumeric(root, 4) && lower_alphanumeric(own, 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_the_iam_user_guide_are_valid() {
        // IAM User Guide, "AWS global condition context keys",
        // aws:PrincipalOrgPaths.
        for path in [
            "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/",
            "o-a1b2c3d4e5/r-ab12/",
            "o-a1b2c3d4e5/r-f6g7h8i9j0example/ou-rge0-awsabcde/",
        ] {
            assert_eq!(validate(path), Ok(()), "{path}");
        }
        assert_eq!(organization_of("o-a1b2c3d4e5/r-ab12/"), "o-a1b2c3d4e5");
        assert_eq!(
            build(
                "o-a1b2c3d4e5",
                &["r-ab12".into(), "ou-ab12-11111111".into()]
            ),
            "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"
        );
    }

    #[test]
    fn shapes_aws_never_builds_are_refused() {
        for path in [
            "",
            "/",
            "o-a1b2c3d4e5/r-ab12",
            "o-a1b2c3d4e5/",
            "o-a1b2c3d4e5//",
            "o-short/r-ab12/",
            "o-A1B2C3D4E5/r-ab12/",
            "a1b2c3d4e5/r-ab12/",
            "o-a1b2c3d4e5/ou-ab12-11111111/",
            "o-a1b2c3d4e5/r-ab/",
            "o-a1b2c3d4e5/r-ab12/ou-ab12/",
            "o-a1b2c3d4e5/r-ab12/ou-ab12-1111/",
            "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/111122223333/",
            "o-a1b2c3d4e5/r-ab12/*",
        ] {
            assert!(validate(path).is_err(), "{path}");
        }
    }
}
