//! Evaluation of a parsed document for one request: which statements apply
//! (or may apply), element by element, and the policy variables with no
//! value that kept one from applying.

use std::sync::Arc;

use crate::policy::logic::{and, not, or};
use crate::policy::variables::Resolution;
use crate::policy::wildcard::{Glob, with_lowered};
use crate::policy::{
    AbsentVariable, Caller, Effect, PrincipalMatch, Request, StatementHit, Tri, VariableElement,
};

use super::{Policy, Statement};

impl Statement {
    /// How this statement's `Principal` names `caller`, whatever its action,
    /// resource and conditions: the chain uses it to point at a statement
    /// that names the caller but not the action it needs. `None` for
    /// `NotPrincipal`, no `Principal`, or a principal that is not the caller.
    pub fn names_principal(&self, caller: &Caller) -> Option<PrincipalMatch> {
        let element = self.principal.as_ref().filter(|element| !element.negated)?;
        match element.principals.matches(caller) {
            (Tri::Yes, kind, _) => kind,
            _ => None,
        }
    }

    /// Whether the statement applies to the request: `None` when it does
    /// not. A statement kept from applying only by policy variables with no
    /// value is returned with [`Tri::No`] and those variables, so that the
    /// report can say why it did not apply.
    /// `action` is the request's action in ASCII lower case.
    pub(super) fn evaluate(
        &self,
        label: &Arc<str>,
        position: u32,
        request: &Request<'_>,
        action: &[u8],
    ) -> Option<StatementHit> {
        // Cheapest first; a `No` anywhere settles it, unless a variable with
        // no value caused it: then the other elements are still judged, to
        // tell "does not apply because of the variable" from "does not
        // apply anyway".
        let mut unknown: Vec<String> = Vec::new();
        let action = self.match_action(action, &mut unknown);
        if action == Tri::No {
            return None;
        }
        // With whether each kept the statement from applying (a positive
        // element it spoiled) or made a negated element hold.
        let mut absent: Vec<(AbsentVariable, bool)> = Vec::new();
        let mut spoiled = false;
        let mut missing = Vec::new();
        let resource = self.match_resource(request, &mut unknown, &mut missing);
        if resource == Tri::No {
            if missing.is_empty() {
                return None;
            }
            spoiled = true;
        }
        let element = match &self.resource {
            Some(resources) if resources.negated => VariableElement::NotResource,
            _ => VariableElement::Resource,
        };
        note_absent(&mut absent, &mut missing, &element, resource == Tri::No);
        let (principal, principal_match) = self.match_principal(request, &mut unknown);
        if principal == Tri::No {
            return None;
        }
        let mut applies = and(and(action, resource), principal);
        for condition in &self.conditions {
            let mut keys = Vec::new();
            let result = condition.evaluate(request.context.resolve(), &mut keys, &mut missing);
            if result == Tri::No {
                if missing.is_empty() {
                    return None;
                }
                spoiled = true;
            }
            if !missing.is_empty() {
                let element = VariableElement::Condition {
                    operator: condition.operator_name().to_string(),
                    key: condition.key().to_string(),
                };
                note_absent(&mut absent, &mut missing, &element, result == Tri::No);
            }
            if result == Tri::Unknown {
                unknown.append(&mut keys);
            }
            applies = and(applies, result);
        }
        if applies != Tri::Unknown {
            unknown.clear();
        } else {
            let mut seen = std::collections::HashSet::new();
            unknown.retain(|key| seen.insert(key.to_ascii_lowercase()));
        }
        // A statement that does not apply owes it to the variables that
        // spoiled its elements, not to those that made another hold.
        let absent = absent
            .into_iter()
            .filter(|(_, spoils)| *spoils || !spoiled)
            .map(|(variable, _)| variable)
            .collect();
        Some(StatementHit {
            label: Arc::clone(label),
            document: position,
            statement: self.index,
            sid: self.sid.clone(),
            effect: self.effect,
            applies,
            principal_match,
            unknown_keys: unknown,
            absent_variables: absent,
            line: self.line,
        })
    }

    /// `action` is in ASCII lower case, as action patterns keep theirs.
    pub(super) fn match_action(&self, action: &[u8], unknown: &mut Vec<String>) -> Tri {
        // IAM User Guide, "Grammar of the IAM JSON policy language" (notes on
        // `action_string`): an action "consists of a service namespace, a
        // colon, and the name of an action. Action names can include
        // wildcards"; "IAM JSON policy elements: Action" shows wildcards only
        // in the action name too. A wildcard in the service prefix (`*:*`,
        // `s*:GetObject`) is nowhere given a meaning, and no page says AWS
        // refuses it: a match that rests on it is an open reading, never a
        // match. A pattern that does not match even as a glob matches under
        // no reading.
        let mut result = Tri::No;
        for (text, glob) in &self.action.patterns {
            if !glob.is_match_lowered(action) {
                continue;
            }
            if wildcard_service_prefix(text) {
                result = Tri::Unknown;
            } else {
                result = Tri::Yes;
                break;
            }
        }
        if result == Tri::Unknown {
            unknown.push(format!(
                "{}the action `{}` with a wildcard in its service prefix, which AWS does not define: an action is \"a service namespace, a colon, and the name of an action\" and only \"action names can include wildcards\" (IAM User Guide, \"Grammar of the IAM JSON policy language\" and \"IAM JSON policy elements: Action\")",
                crate::policy::OPEN_READING,
                self.action
                    .patterns
                    .iter()
                    .find(|(text, glob)| glob.is_match_lowered(action) && wildcard_service_prefix(text))
                    .map(|(text, _)| text.as_str())
                    .unwrap_or_default()
            ));
        }
        if self.action.negated {
            not(result)
        } else {
            result
        }
    }

    /// Variables with no value are pushed to `missing` when they decided
    /// the result: a pattern holding one matches no resource ("Policy
    /// variables with no value"), so it can only spoil a `Resource` or leave
    /// a `NotResource` excluding nothing.
    pub(super) fn match_resource(
        &self,
        request: &Request<'_>,
        unknown: &mut Vec<String>,
        missing: &mut Vec<String>,
    ) -> Tri {
        // Trust policies have no `Resource`: the role they are attached to.
        let Some(resources) = &self.resource else {
            return Tri::Yes;
        };
        let mut result = Tri::No;
        let mut nulls = Vec::new();
        for pattern in &resources.patterns {
            let matched = match &pattern.glob {
                Some(glob) => {
                    if glob.is_match(request.resource) {
                        Tri::Yes
                    } else {
                        Tri::No
                    }
                }
                // Resolving variables allocates; most patterns are ruled out
                // by their literal start first.
                None if !request
                    .resource
                    .starts_with(pattern.template.literal_prefix()) =>
                {
                    Tri::No
                }
                None => match pattern.template.resolve_tokens(request.context.resolve()) {
                    Resolution::Value(tokens) => {
                        if Glob::resource(tokens).is_match(request.resource) {
                            Tri::Yes
                        } else {
                            Tri::No
                        }
                    }
                    Resolution::Unknown(key) => {
                        unknown.push(key);
                        Tri::Unknown
                    }
                    Resolution::Missing(key) => {
                        nulls.push(key);
                        Tri::No
                    }
                },
            };
            result = or(result, matched);
            if result == Tri::Yes {
                break;
            }
        }
        if result == Tri::No {
            missing.append(&mut nulls);
        }
        if resources.negated {
            not(result)
        } else {
            result
        }
    }

    pub(super) fn match_principal(
        &self,
        request: &Request<'_>,
        unknown: &mut Vec<String>,
    ) -> (Tri, Option<PrincipalMatch>) {
        let Some(element) = &self.principal else {
            // Identity policies have no principal: they apply to their owner.
            return (Tri::Yes, None);
        };
        if element.negated {
            // IAM User Guide ("NotPrincipal"): a Deny with
            // NotPrincipal always applies to a principal with a permissions
            // boundary, whatever the list says.
            if self.effect == Effect::Deny && request.caller.has_permissions_boundary {
                return (Tri::Yes, Some(PrincipalMatch::NotPrincipal));
            }
            let (applies, session) = element.principals.not_principal_applies(request.caller);
            if self.effect == Effect::Allow && applies != Tri::No {
                // IAM User Guide, "AWS JSON policy elements: NotPrincipal":
                // "NotPrincipal must be used with "Effect":"Deny". Using it
                // with "Effect":"Allow" is not supported." The page used to
                // say such a statement allows every principal but those
                // listed, anonymous callers included. Which one AWS applies
                // to a policy that has one is open, so for a caller not
                // listed the grant is unknown, never allowed; a caller
                // listed is granted nothing under either reading.
                unknown.push(format!(
                    "{}`NotPrincipal` with `\"Effect\": \"Allow\"`, which AWS does not support (IAM User Guide, \"AWS JSON policy elements: NotPrincipal\"); an earlier version of that page said it allows every principal not listed, anonymous callers included",
                    crate::policy::OPEN_READING
                ));
                return (Tri::Unknown, Some(PrincipalMatch::NotPrincipal));
            }
            if let Some(session) = session {
                unknown.push(session);
            }
            let kind = (applies != Tri::No).then_some(PrincipalMatch::NotPrincipal);
            return (applies, kind);
        }
        let (matched, kind, session) = element.principals.matches(request.caller);
        if let Some(session) = session {
            unknown.push(session);
        }
        (matched, kind)
    }
}

/// Whether an action pattern has `*` or `?` before its colon (`*` alone is
/// the documented "every action" and has no prefix).
fn wildcard_service_prefix(text: &str) -> bool {
    text.split_once(':')
        .is_some_and(|(service, _)| service.contains(['*', '?']))
}

/// Moves the variables with no value of one element into `absent`, once each.
fn note_absent(
    absent: &mut Vec<(AbsentVariable, bool)>,
    missing: &mut Vec<String>,
    element: &VariableElement,
    spoils: bool,
) {
    for key in missing.drain(..) {
        let seen = absent.iter().any(|(variable, _)| {
            &variable.element == element && variable.key.eq_ignore_ascii_case(&key)
        });
        if !seen {
            let element = element.clone();
            absent.push((AbsentVariable { element, key }, spoils));
        }
    }
}

impl Policy {
    /// The statements that apply (or may apply) to `request`.
    pub fn evaluate(&self, request: &Request<'_>) -> Vec<StatementHit> {
        let mut hits = Vec::new();
        with_lowered(request.action, |action| {
            self.evaluate_into(request, action, 0, &mut hits)
        });
        hits
    }

    /// [`Policy::evaluate`] with the request's action already in ASCII lower
    /// case, adding the hits to `hits`: for a caller that evaluates several
    /// documents, this one at `position` among them.
    pub(crate) fn evaluate_into(
        &self,
        request: &Request<'_>,
        action: &[u8],
        position: u32,
        hits: &mut Vec<StatementHit>,
    ) {
        hits.extend(
            self.statements
                .iter()
                .filter_map(|statement| statement.evaluate(&self.label, position, request, action)),
        );
    }
}
