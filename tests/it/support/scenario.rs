//! Scenarios of `fixtures/scenarios/` as library requests, for the tests
//! that judge them in process rather than through the binary.

use kms_s3_doctor::chain::CheckRequest;
use kms_s3_doctor::diagnosis::Operation;

/// The flags of a scenario's `args` that make a request.
pub fn request_of(args: &[String]) -> Option<CheckRequest> {
    let mut request = CheckRequest {
        access_point: None,
        bucket: String::new(),
        object: None,
        principal: String::new(),
        via_role: None,
        external_id: None,
        operations: Operation::DEFAULT.to_vec(),
        context: Vec::new(),
        via_service: None,
        now: chrono::Utc::now(),
    };
    let mut words = args.iter();
    while let Some(flag) = words.next() {
        let value = words.next()?.clone();
        match flag.as_str() {
            "--bucket" => request.bucket = value,
            "--object" => request.object = Some(value),
            "--principal" => request.principal = value,
            "--via-role" => request.via_role = Some(value),
            "--access-point" => request.access_point = Some(value),
            "--external-id" => request.external_id = Some(value),
            "--op" => {
                request.operations = value
                    .split(',')
                    .map(Operation::parse)
                    .collect::<Option<Vec<_>>>()?
            }
            "--context" => {
                let (key, value) = value.split_once('=')?;
                request.context.push((key.to_string(), value.to_string()));
            }
            "--expect" => {}
            _ => return None,
        }
    }
    Some(request)
}
