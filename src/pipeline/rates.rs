//! `--rate OPERATION=N`: a request rate for one AWS operation, checked
//! before anything is read. The operation must be one the tool sends
//! (`kms:ListGrants`), N a whole number of requests per second above zero.

/// The most requests per second `--rate` accepts: above every default
/// quota AWS publishes for an operation the tool sends (AWS KMS Developer
/// Guide, "Request quotas": 2,000), with room for raised quotas.
pub const MAX_RATE: u32 = 100_000;

/// `kms:ListGrants=50` as (`kms:ListGrants`, 50); the operation's name is
/// given back as the tool spells it.
pub fn request_rate(text: &str) -> Result<(String, u32), String> {
    let Some((operation, number)) = text.split_once('=') else {
        return Err(format!(
            "`{text}` is not OPERATION=N: give an operation and its requests per second, such as kms:ListGrants=50"
        ));
    };
    let operation = operation_name(operation.trim())?;
    let number = number.trim();
    let rate: u32 = match number.parse::<i64>() {
        Ok(rate) if rate <= 0 => {
            return Err(format!(
                "`{number}` requests per second for {operation}: give a whole number above 0"
            ));
        }
        Ok(rate) if rate > i64::from(MAX_RATE) => {
            return Err(format!(
                "`{number}` requests per second for {operation}: at most {MAX_RATE}"
            ));
        }
        Ok(rate) => u32::try_from(rate).unwrap_or(MAX_RATE),
        Err(_) => {
            return Err(format!(
                "`{number}` is not a whole number of requests per second (for {operation})"
            ));
        }
    };
    Ok((operation, rate))
}

#[cfg(feature = "live")]
fn operation_name(text: &str) -> Result<String, String> {
    crate::live::rate_operation(text)
}

/// Without live mode nothing is sent: only the form is checked.
#[cfg(not(feature = "live"))]
fn operation_name(text: &str) -> Result<String, String> {
    match text.split_once(':') {
        Some((service, operation)) if !service.is_empty() && !operation.is_empty() => {
            Ok(text.to_string())
        }
        _ => Err(format!(
            "`{text}` is not SERVICE:Operation, such as kms:ListGrants"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_an_operation_and_a_positive_whole_number() {
        assert_eq!(
            request_rate("kms:ListGrants=50"),
            Ok(("kms:ListGrants".to_string(), 50))
        );
        for bad in [
            "kms:ListGrants",
            "kms:ListGrants=0",
            "kms:ListGrants=-3",
            "kms:ListGrants=2.5",
            "kms:ListGrants=",
            "kms:ListGrants=1000001",
        ] {
            assert!(request_rate(bad).is_err(), "{bad}");
        }
        let error = request_rate("kms:ListGrants=0").unwrap_err();
        assert!(error.contains("above 0"), "{error}");
    }

    #[cfg(feature = "live")]
    #[test]
    fn an_operation_not_sent_is_refused() {
        let error = request_rate("kms:Decrypt=5").unwrap_err();
        assert!(error.contains("not an operation"), "{error}");
    }
}
