//! Walking a snapshot's documents: giving each its identity and label,
//! noting where the file holds it, and pointing evidence at its statement
//! in that file.

use std::sync::Arc;

use super::{DocRef, Field, PolicyDoc, Snapshot, docref};

impl Snapshot {
    /// Points the evidence of a diagnosis into the snapshot file it was
    /// loaded from (`file` names it, `text` is its content): a cited
    /// statement of a document given there as a JSON object gets its line
    /// and column in the file. Only cited statements are located, each by a
    /// scan along its pointer; documents given as strings keep the line of
    /// their `jq`-printed form, and documents that did not come from the
    /// file (laid by a plan or overlay) have no position in it.
    pub fn locate_evidence(
        &self,
        file: &str,
        text: &str,
        diagnosis: &mut crate::diagnosis::Diagnosis,
    ) {
        // A statement cited by several links is located once.
        type Statement = (Arc<DocRef>, usize);
        let mut cache: std::collections::HashMap<Statement, Option<(usize, usize)>> =
            std::collections::HashMap::new();
        let evidence = diagnosis
            .operations
            .iter_mut()
            .flat_map(|operation| operation.actions.iter_mut())
            .flat_map(|action| action.links.iter_mut())
            .flat_map(|link| link.evidence.iter_mut());
        for evidence in evidence {
            let (Some(index), Some(id)) = (evidence.statement, &evidence.doc) else {
                continue;
            };
            let found = cache.entry((id.clone(), index)).or_insert_with(|| {
                let doc = self.get(id)?;
                let pointer = doc.source_pointer()?;
                if !doc.is_object() {
                    return None;
                }
                // The document's text is the file's, byte for byte: where
                // the statement starts in it was noted when it was read.
                let inner = doc.policy.statements().get(index)?.offset();
                let offset = match inner {
                    Some(inner) => crate::policy::positions::locate_pointer(text, pointer)? + inner,
                    None => {
                        let statement = if doc.policy.single_statement() {
                            format!("{pointer}/Statement")
                        } else {
                            format!("{pointer}/Statement/{index}")
                        };
                        crate::policy::positions::locate_pointer(text, &statement)?
                    }
                };
                let at = crate::policy::positions::position_at(text, offset);
                Some((at.line, at.column))
            });
            if let Some((line, column)) = *found {
                evidence.file_position = Some(crate::diagnosis::FilePosition {
                    file: file.to_string(),
                    line,
                    column,
                });
            }
        }
    }

    /// Gives every document its identity and the label reports and errors
    /// use (a rendering of the identity).
    pub fn identify_documents(&mut self) {
        // Every change to a snapshot ends here, so the principal index built
        // for its previous state is checked against it.
        self.refresh_principal_index();
        self.walk_documents_mut(false, |id, label, _, doc| doc.identify(id, label));
    }

    /// Notes where each document is in the snapshot file being parsed.
    pub(super) fn note_source_pointers(&mut self) {
        self.walk_documents_mut(true, |_, _, pointer, doc| {
            doc.source_pointer = pointer.map(Arc::from);
        });
    }

    /// Calls `visit` with every document, its identity, its label and (when
    /// `pointers`) its JSON pointer, in the order of [`Snapshot::documents`].
    fn walk_documents_mut(
        &mut self,
        pointers: bool,
        mut visit: impl FnMut(DocRef, String, Option<String>, &mut PolicyDoc),
    ) {
        use crate::policy::positions::escape_pointer_segment as segment;
        let pointer = |make: &dyn Fn() -> String| pointers.then(make);
        for (account, info) in &mut self.accounts {
            for (scp, kind, levels) in [
                (true, "scps", &mut info.scps),
                (false, "rcps", &mut info.rcps),
            ] {
                if let Field::Some(levels) = levels {
                    for (level, policies) in levels.iter_mut().enumerate() {
                        for (index, named) in policies.iter_mut().enumerate() {
                            let id = DocRef::organization(scp, account, level, index);
                            let label = docref::organization_label(scp, account, &named.name);
                            let at = pointer(&|| {
                                format!(
                                    "/accounts/{}/{kind}/{level}/{index}/document",
                                    segment(account)
                                )
                            });
                            visit(id, label, at, &mut named.document);
                        }
                    }
                }
            }
        }
        for (at, bucket) in self.buckets.iter_mut().enumerate() {
            if let Field::Some(doc) = &mut bucket.policy {
                let id = DocRef::BucketPolicy {
                    bucket: bucket.name.clone(),
                };
                let label = format!("bucket policy of `{}`", bucket.name);
                visit(id, label, pointer(&|| format!("/buckets/{at}/policy")), doc);
            }
        }
        for (at, info) in self.access_points.iter_mut().enumerate() {
            if let Field::Some(doc) = &mut info.policy {
                let id = DocRef::AccessPointPolicy {
                    access_point: info.arn.clone(),
                };
                let label = format!("access point policy of `{}`", info.arn);
                let at = pointer(&|| format!("/access_points/{at}/policy"));
                visit(id, label, at, doc);
            }
        }
        for (at, key) in self.keys.iter_mut().enumerate() {
            if let Field::Some(doc) = &mut key.policy {
                let label = format!("key policy of `{}`", key.arn);
                let id = DocRef::KeyPolicy {
                    key: key.arn.clone(),
                };
                visit(id, label, pointer(&|| format!("/keys/{at}/policy")), doc);
            }
        }
        for (at, info) in self.principals.iter_mut().enumerate() {
            let arn = info.arn.clone();
            if let Field::Some(policies) = &mut info.policies {
                for (index, named) in policies.iter_mut().enumerate() {
                    let label = docref::identity_label(named, &arn);
                    let id = DocRef::IdentityPolicy {
                        principal: arn.clone(),
                        index,
                    };
                    let place = pointer(&|| format!("/principals/{at}/policies/{index}/document"));
                    visit(id, label, place, &mut named.document);
                }
            }
            if let Field::Some(named) = &mut info.permissions_boundary {
                let label = format!("permissions boundary `{}` of `{arn}`", named.name);
                let id = DocRef::PermissionsBoundary {
                    principal: arn.clone(),
                };
                let place = pointer(&|| format!("/principals/{at}/permissions_boundary/document"));
                visit(id, label, place, &mut named.document);
            }
            if let Field::Some(doc) = &mut info.trust_policy {
                let label = format!("trust policy of `{arn}`");
                let id = DocRef::TrustPolicy { role: arn.clone() };
                visit(
                    id,
                    label,
                    pointer(&|| format!("/principals/{at}/trust_policy")),
                    doc,
                );
            }
            if let Field::Some(docs) = &mut info.session_policies {
                for (index, doc) in docs.iter_mut().enumerate() {
                    let label = format!("session policy {index} of `{arn}`");
                    let id = DocRef::SessionPolicy {
                        principal: arn.clone(),
                        index,
                    };
                    let place = pointer(&|| format!("/principals/{at}/session_policies/{index}"));
                    visit(id, label, place, doc);
                }
            }
        }
    }
}
