//! The request context of a request a service makes with the caller's
//! credentials (`--via-service`: Athena, Glue, EMR reading S3 for the
//! caller), and of a presigned URL's signature keys.

use crate::policy::context::RequestContext;

use super::super::Setup;
use super::VPC_KEYS;

/// The services whose adding themselves to `aws:CalledVia` when they use
/// the caller's credentials the tool has AWS's word for: Athena (Athena
/// User Guide, "Use CalledVia context keys for Athena") and CloudFormation
/// (AWS Security Blog, "How to define least-privileged permissions for
/// actions called by AWS services"). For any other service the key is
/// unknown, never guessed.
const SETS_CALLED_VIA: &[&str] = &["athena.amazonaws.com", "cloudformation.amazonaws.com"];

const CALLED_VIA_KEYS: [&str; 3] = ["aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast"];

/// The service of `--via-service`, when given.
pub(crate) fn service<'s>(setup: &Setup<'s>) -> Option<&'s str> {
    setup.request.via_service.as_deref()
}

/// The S3 request the service makes for the caller is a forward access
/// session (IAM User Guide, "Forward access sessions"): the caller's
/// identity, `aws:ViaAWSService` true, the service in `aws:CalledVia` when
/// it is one that sets it, and none of the VPC keys of the caller's own
/// network (the request leaves from the service). `aws:SourceIp` is what
/// `--context` gives (the caller's own address, which a forward access
/// session keeps: IAM User Guide, "AWS: Denies access to AWS based on the
/// source IP"), else unknown.
pub(crate) fn set_on_s3_request(setup: &Setup<'_>, context: &mut RequestContext) {
    let Some(service) = service(setup) else {
        for key in CALLED_VIA_KEYS {
            context.set_absent(key);
        }
        context.set("aws:ViaAWSService", "false");
        return;
    };
    context.set("aws:ViaAWSService", "true");
    if SETS_CALLED_VIA.contains(&service) {
        context.set_values("aws:CalledVia", vec![service.to_string()]);
        context.set("aws:CalledViaFirst", service);
        context.set("aws:CalledViaLast", service);
    } else {
        for key in CALLED_VIA_KEYS {
            context.set_unknown(key);
        }
    }
}

/// S3's call to KMS for the caller. Without `--via-service` it carries no
/// `aws:CalledVia` (S3 is not among the services that set it); through a
/// service, what the chain's key holds by the time S3 calls KMS is not
/// documented, so the three keys are unknown.
pub(crate) fn set_on_kms_call(setup: &Setup<'_>, context: &mut RequestContext) {
    for key in CALLED_VIA_KEYS {
        match service(setup) {
            Some(_) => context.set_unknown(key),
            None => context.set_absent(key),
        }
    }
}

/// After `--context`: the VPC keys of the caller's own request never reach
/// the request the service makes.
pub(crate) fn drop_caller_network(setup: &Setup<'_>, context: &mut RequestContext) {
    if service(setup).is_some() {
        for key in VPC_KEYS {
            context.set_absent(key);
        }
    }
}

/// `s3:signatureAge` "works for" presigned URLs and presigned POST (S3 API
/// Reference, "Amazon S3 Signature Version 4 Authentication Specific Policy
/// Keys"): a request signed in its `Authorization` header (`s3:authType`
/// `REST-HEADER`, the default) has none; any other is unknown unless given.
pub(crate) fn set_signature_keys(setup: &Setup<'_>, context: &mut RequestContext) {
    context.set("s3:authType", "REST-HEADER");
    match setup.context_value("s3:authType") {
        None | Some("REST-HEADER") => context.set_absent("s3:signatureAge"),
        Some(_) => context.set_unknown("s3:signatureAge"),
    }
}
