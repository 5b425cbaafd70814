//! `--shard K/N`: which accounts of an organization one of N sweeps reads.
//! An account belongs to shard `(ACCOUNT_ID mod N) + 1`, the account id read
//! as the number it is. The rule looks at nothing but the account itself,
//! so the N shards partition any list of accounts exactly, whatever order
//! the organization lists them in and even when an account joins between
//! two shards' runs; and anyone can tell which shard read an account with
//! `echo $(( 10#ACCOUNT_ID % N + 1 ))`.

use std::fmt;
use std::str::FromStr;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Whether this shard reads `account` (a 12-digit account id). A text
    /// that is not a number belongs to no shard: the sweep never lists one.
    pub fn owns(&self, account: &str) -> bool {
        account
            .parse::<u64>()
            .is_ok_and(|number| number % self.count + 1 == self.index)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a shard: expected K/N with 1 <= K <= N, such as 2/8");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let number = |part: &str| {
            // Digits only: `+1` or ` 1` would parse, and a shard written
            // that way is more likely a typo than meant.
            if part.is_empty() || !part.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse::<u64>().map_err(|_| bad())
        };
        let (index, count) = (number(index)?, number(count)?);
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn shards_partition_the_accounts_exactly() {
        let accounts: Vec<String> = (0..500u64)
            .map(|number| format!("{:012}", number * 7_919 + 100_000_000_003))
            .collect();
        for count in 1..=7u64 {
            let mut seen = vec![0usize; accounts.len()];
            for index in 1..=count {
                let shard: Shard = format!("{index}/{count}").parse().unwrap();
                for (position, account) in accounts.iter().enumerate() {
                    if shard.owns(account) {
                        seen[position] += 1;
                    }
                }
            }
            assert!(seen.iter().all(|&times| times == 1), "N = {count}");
        }
    }

    #[test]
    fn the_rule_is_the_account_id_modulo_n() {
        let shard: Shard = "3/3".parse().unwrap();
        // 111111111113 mod 3 = 2, so shard 3.
        assert!(shard.owns("111111111113"));
        assert!(!shard.owns("111111111111"));
        assert!(!shard.owns("not-an-account"));
    }

    #[test]
    fn bad_shards_are_refused() {
        for text in [
            "0/3", "4/3", "1/0", "3", "a/b", "1/", "/3", "-1/3", "+1/3", " 1/3", "1/3/5",
        ] {
            assert!(text.parse::<Shard>().is_err(), "{text}");
        }
        assert_eq!("2/8".parse::<Shard>().unwrap().to_string(), "2/8");
    }
}
