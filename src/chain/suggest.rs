//! "Did you mean": the closest known name to one the user typed (a bucket,
//! principal or key that is not in the snapshot), so that a typo is not
//! mistaken for a document nobody could read.

/// The candidate closest to `wanted`, when one is close enough to be a typo
/// of it: a case-only difference, or an edit distance of at most a quarter
/// of the name's last segment (at least 1) — the part after the last `/` or
/// `:`, so that two ARNs sharing a long prefix are not "close" because of it.
/// Nothing is suggested when the name itself is a candidate.
pub fn closest<'c>(wanted: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let segment = wanted.rsplit(['/', ':']).next().unwrap_or(wanted);
    let limit = (segment.chars().count() / 4).max(1);
    let candidates: Vec<&'c str> = candidates.into_iter().collect();
    if candidates.contains(&wanted) {
        return None;
    }
    candidates
        .into_iter()
        .map(|candidate| {
            let distance = if candidate.eq_ignore_ascii_case(wanted) {
                0
            } else {
                strsim::damerau_levenshtein(wanted, candidate)
            };
            (distance, candidate)
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `; did you mean `NAME`?`, or nothing.
pub fn did_you_mean<'c>(wanted: &str, candidates: impl IntoIterator<Item = &'c str>) -> String {
    closest(wanted, candidates)
        .map(|name| format!("; did you mean `{name}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_finds_the_name_and_a_stranger_finds_nothing() {
        let buckets = ["account-a-bucket", "logs", "account-b-bucket"];
        assert_eq!(
            closest("acount-a-bucket", buckets),
            Some("account-a-bucket")
        );
        assert_eq!(
            closest("Account-A-Bucket", buckets),
            Some("account-a-bucket")
        );
        assert_eq!(closest("images", buckets), None);
        assert_eq!(closest("account-a-bucket", buckets), None);
        let users = [
            "arn:aws:iam::222222222222:user/dilip",
            "arn:aws:iam::111111111111:user/ann",
        ];
        assert_eq!(
            closest("arn:aws:iam::222222222222:user/dillip", users),
            Some("arn:aws:iam::222222222222:user/dilip")
        );
        assert_eq!(closest("arn:aws:iam::222222222222:user/bob", users), None);
        assert_eq!(did_you_mean("logz", buckets), "; did you mean `logs`?");
        assert_eq!(did_you_mean("images", buckets), "");
    }
}
