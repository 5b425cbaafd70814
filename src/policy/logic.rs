//! Three-valued logic for statements whose outcome may hang on unknown
//! context keys: a `No` decides an AND and a `Yes` decides an OR even when
//! other parts are unknown.

use super::Tri;

pub(crate) fn and(a: Tri, b: Tri) -> Tri {
    match (a, b) {
        (Tri::No, _) | (_, Tri::No) => Tri::No,
        (Tri::Yes, Tri::Yes) => Tri::Yes,
        _ => Tri::Unknown,
    }
}

pub(crate) fn or(a: Tri, b: Tri) -> Tri {
    match (a, b) {
        (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
        (Tri::No, Tri::No) => Tri::No,
        _ => Tri::Unknown,
    }
}

pub(crate) fn not(a: Tri) -> Tri {
    match a {
        Tri::Yes => Tri::No,
        Tri::No => Tri::Yes,
        Tri::Unknown => Tri::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Tri::*;

    #[test]
    fn kleene_truth_tables() {
        let all = [Yes, No, Unknown];
        for a in all {
            for b in all {
                let expected_and = if a == No || b == No {
                    No
                } else if a == Yes && b == Yes {
                    Yes
                } else {
                    Unknown
                };
                assert_eq!(and(a, b), expected_and);
                // De Morgan ties OR to AND.
                assert_eq!(or(a, b), not(and(not(a), not(b))));
            }
        }
    }
}
