//! Access paths as pictures: principal → the role it assumes → access
//! point → bucket → KMS key, each edge marked by its verdict and the link
//! that broke it, rendered as a Mermaid `flowchart LR` (which GitHub draws
//! in a pull-request comment) or as Graphviz `dot`.
//!
//! Every label is escaped: a principal or bucket name from a snapshot is
//! untrusted text and must neither break the diagram nor inject markup
//! into the page that renders it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::diagnosis::{Diagnosis, LinkId, LinkStatus, Operation, Verdict};

/// What a node of a path stands for; it decides the node's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    /// The caller.
    Principal,
    /// A role the caller assumes on the way.
    Role,
    AccessPoint,
    Bucket,
    /// A KMS key.
    Key,
}

impl NodeKind {
    /// The word put before the name, so that a reader without the shapes'
    /// legend still knows what a node is.
    fn word(self) -> &'static str {
        match self {
            NodeKind::Principal => "principal",
            NodeKind::Role => "via role",
            NodeKind::AccessPoint => "access point",
            NodeKind::Bucket => "bucket",
            NodeKind::Key => "KMS key",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    pub kind: NodeKind,
    /// An ARN, a bucket name, a service principal: shown as is (escaped).
    pub name: String,
}

/// The step from one node to the next.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Edge {
    /// The worst verdict of the actions this step stands for.
    pub verdict: Verdict,
    /// For a step not allowed: the first link that failed (denied) or was
    /// unknown (inconclusive).
    pub link: Option<LinkId>,
    /// The operations whose verdict on this step is `verdict`; empty when
    /// the step does not depend on the operation.
    pub operations: Vec<Operation>,
}

impl Edge {
    pub fn allowed() -> Self {
        Edge {
            verdict: Verdict::Allowed,
            link: None,
            operations: Vec::new(),
        }
    }

    fn label(&self) -> String {
        let mut label = String::new();
        if self.verdict != Verdict::Allowed && !self.operations.is_empty() {
            let names: Vec<&str> = self.operations.iter().map(|op| op.as_str()).collect();
            label.push_str(&names.join(", "));
            label.push(' ');
        }
        label.push_str(self.verdict.as_str());
        if let Some(link) = self.link {
            label.push_str(": ");
            label.push_str(link.as_str());
        }
        label
    }
}

/// One path from a principal to the last resource it reaches: `edges[i]`
/// goes from `nodes[i]` to `nodes[i + 1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPath {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl AccessPath {
    /// A path that starts at `principal` and goes nowhere yet.
    pub fn from(principal: &str) -> Self {
        AccessPath {
            nodes: vec![Node {
                kind: NodeKind::Principal,
                name: principal.to_string(),
            }],
            edges: Vec::new(),
        }
    }

    /// The path with one more step, to `name`, marked by `edge`.
    pub fn then(mut self, kind: NodeKind, name: &str, edge: Edge) -> Self {
        self.nodes.push(Node {
            kind,
            name: name.to_string(),
        });
        self.edges.push(edge);
        self
    }

    /// The paths a `check` diagnosis took: one per bucket its S3 actions
    /// name (the request's bucket, and a replication destination), through
    /// the role assumed and the access point, to each KMS key the actions
    /// after them use. A step's mark is the worst of its actions' verdicts
    /// over every operation, with the link that made it so.
    pub fn from_diagnosis(diagnosis: &Diagnosis) -> Vec<AccessPath> {
        let mut role: Option<(String, Marks)> = None;
        // Per bucket, in order of first use: the access point, the marks of
        // the access-point step, of the bucket step, and per key.
        let mut targets: Vec<Target> = Vec::new();
        for operation in &diagnosis.operations {
            // A KMS action serves the S3 action before it (S3 calls KMS for
            // that request), so it joins that action's bucket.
            let mut current: Option<usize> = None;
            for action in &operation.actions {
                let statuses: Vec<(LinkId, LinkStatus)> = action
                    .links
                    .iter()
                    .map(|link| (link.link, link.status))
                    .collect();
                if action.action.eq_ignore_ascii_case("sts:AssumeRole") {
                    let entry =
                        role.get_or_insert_with(|| (action.resource.clone(), Marks::default()));
                    entry.1.add(operation.operation, &statuses);
                } else if let Some(mut place) = s3_place(&action.action, &action.resource) {
                    if place.bucket.is_empty() {
                        // An access point's ARN does not name its bucket;
                        // the request's does.
                        place.bucket = diagnosis.bucket.clone();
                    }
                    let index = match targets.iter().position(|target| {
                        target.bucket == place.bucket && target.access_point == place.access_point
                    }) {
                        Some(index) => index,
                        None => {
                            targets.push(Target {
                                bucket: place.bucket,
                                access_point: place.access_point,
                                access: Marks::default(),
                                bucket_marks: Marks::default(),
                                keys: Vec::new(),
                            });
                            targets.len() - 1
                        }
                    };
                    let target = &mut targets[index];
                    if target.access_point.is_some() {
                        let (point, rest): (Vec<_>, Vec<_>) = statuses
                            .iter()
                            .partition(|(link, _)| *link == LinkId::AccessPointPolicy);
                        target.access.add(operation.operation, &point);
                        target.bucket_marks.add(operation.operation, &rest);
                    } else {
                        target.bucket_marks.add(operation.operation, &statuses);
                    }
                    current = Some(index);
                } else if action.action.to_ascii_lowercase().starts_with("kms:") {
                    let Some(index) = current else { continue };
                    let keys = &mut targets[index].keys;
                    let key = match keys.iter().position(|(key, _)| *key == action.resource) {
                        Some(key) => key,
                        None => {
                            keys.push((action.resource.clone(), Marks::default()));
                            keys.len() - 1
                        }
                    };
                    keys[key].1.add(operation.operation, &statuses);
                }
            }
        }
        let start = AccessPath::from(&diagnosis.principal);
        let start = match (&role, &diagnosis.via_role) {
            (Some((arn, marks)), _) => start.then(NodeKind::Role, arn, marks.edge()),
            // A role named but never asked for: nothing to mark its step by.
            (None, Some(arn)) => start.then(NodeKind::Role, arn, Edge::allowed()),
            (None, None) => start,
        };
        let mut paths = Vec::new();
        if targets.is_empty() {
            paths.push(
                start
                    .clone()
                    .then(NodeKind::Bucket, &diagnosis.bucket, Edge::allowed()),
            );
        }
        for target in targets {
            let mut path = start.clone();
            if let Some(point) = &target.access_point {
                path = path.then(NodeKind::AccessPoint, point, target.access.edge());
            }
            path = path.then(NodeKind::Bucket, &target.bucket, target.bucket_marks.edge());
            for (key, marks) in &target.keys {
                paths.push(path.clone().then(NodeKind::Key, key, marks.edge()));
            }
            if target.keys.is_empty() {
                paths.push(path);
            }
        }
        paths
    }
}

struct Target {
    bucket: String,
    access_point: Option<String>,
    access: Marks,
    bucket_marks: Marks,
    keys: Vec<(String, Marks)>,
}

/// The worst verdict seen on one step, the first link that made it so,
/// and the operations that saw it.
#[derive(Default)]
struct Marks {
    verdict: Option<Verdict>,
    link: Option<LinkId>,
    operations: Vec<Operation>,
}

impl Marks {
    fn add(&mut self, operation: Operation, links: &[(LinkId, LinkStatus)]) {
        let verdict = links
            .iter()
            .map(|(_, status)| verdict_of(*status))
            .max()
            .unwrap_or(Verdict::Allowed);
        let link = links
            .iter()
            .find(|(_, status)| verdict_of(*status) == verdict && verdict != Verdict::Allowed)
            .map(|(link, _)| *link);
        match self.verdict {
            Some(worst) if worst > verdict => {}
            Some(worst) if worst == verdict => {
                if !self.operations.contains(&operation) {
                    self.operations.push(operation);
                }
            }
            _ => {
                self.verdict = Some(verdict);
                self.link = link;
                self.operations = vec![operation];
            }
        }
    }

    fn edge(&self) -> Edge {
        Edge {
            verdict: self.verdict.unwrap_or(Verdict::Allowed),
            link: self.link,
            operations: self.operations.clone(),
        }
    }
}

fn verdict_of(status: LinkStatus) -> Verdict {
    match status {
        LinkStatus::Pass => Verdict::Allowed,
        LinkStatus::Unknown => Verdict::Inconclusive,
        LinkStatus::Fail => Verdict::Denied,
    }
}

struct Place {
    bucket: String,
    access_point: Option<String>,
}

/// The bucket (and access point) an S3 action's resource names:
/// `arn:aws:s3:::BUCKET[/KEY]`, an access point ARN
/// `arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME[/object/KEY]` (its bucket
/// is not in the ARN, so the access point stands for it), or a directory
/// bucket's `arn:aws:s3express:REGION:ACCOUNT:bucket/NAME[/KEY]`.
fn s3_place(action: &str, resource: &str) -> Option<Place> {
    let action = action.to_ascii_lowercase();
    if !(action.starts_with("s3:") || action.starts_with("s3express:")) {
        return None;
    }
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let [_, _, service, _, _, rest] = parts.as_slice() else {
        return None;
    };
    if *service == "s3" {
        if let Some(point) = rest.strip_prefix("accesspoint/") {
            let name = point.split('/').next().unwrap_or(point);
            let arn_end = resource.len() - rest.len() + "accesspoint/".len() + name.len();
            return Some(Place {
                bucket: String::new(),
                access_point: Some(resource[..arn_end].to_string()),
            });
        }
        let bucket = rest.split('/').next().unwrap_or(rest);
        return Some(Place {
            bucket: bucket.to_string(),
            access_point: None,
        });
    }
    if *service == "s3express" {
        let name = rest.strip_prefix("bucket/")?;
        return Some(Place {
            bucket: name.split('/').next().unwrap_or(name).to_string(),
            access_point: None,
        });
    }
    None
}

/// The graph of `paths`, nodes shared where it is exact to share them: a
/// principal is one node whatever its paths, and any later node is shared
/// only by paths that go on from it identically (the same nodes, marked the
/// same). A bucket reached by two principals whose KMS step differs is then
/// drawn twice, so that every walk of the picture is a path that was judged.
struct Graph {
    nodes: Vec<Node>,
    edges: Vec<(usize, usize, Edge)>,
}

impl Graph {
    fn of(paths: &[AccessPath]) -> Graph {
        let mut ids: BTreeMap<(Vec<Node>, Vec<Edge>), usize> = BTreeMap::new();
        let mut graph = Graph {
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        for path in paths {
            let mut previous: Option<usize> = None;
            for (index, node) in path.nodes.iter().enumerate() {
                let key = if index == 0 {
                    (vec![node.clone()], Vec::new())
                } else {
                    (path.nodes[index..].to_vec(), path.edges[index..].to_vec())
                };
                let id = *ids.entry(key).or_insert_with(|| {
                    graph.nodes.push(node.clone());
                    graph.nodes.len() - 1
                });
                let edge = index
                    .checked_sub(1)
                    .and_then(|before| path.edges.get(before));
                if let (Some(from), Some(edge)) = (previous, edge) {
                    let new = (from, id, edge.clone());
                    if !graph.edges.contains(&new) {
                        graph.edges.push(new);
                    }
                }
                previous = Some(id);
            }
        }
        graph
    }
}

/// A Mermaid `flowchart LR` of `paths`, without the Markdown fence around
/// it. Allowed steps are solid arrows, inconclusive ones dotted, denied
/// ones end in a cross; each is coloured and labelled with its verdict and
/// link.
pub fn mermaid(paths: &[AccessPath]) -> String {
    let graph = Graph::of(paths);
    let mut out = String::from("flowchart LR\n");
    for (id, node) in graph.nodes.iter().enumerate() {
        let label = mermaid_text(&format!("{}: {}", node.kind.word(), node.name));
        let (open, close) = match node.kind {
            NodeKind::Principal => ("([\"", "\"])"),
            NodeKind::Role => ("[/\"", "\"/]"),
            NodeKind::AccessPoint => ("[\"", "\"]"),
            NodeKind::Bucket => ("[(\"", "\")]"),
            NodeKind::Key => ("{{\"", "\"}}"),
        };
        let _ = writeln!(out, "  n{id}{open}{label}{close}");
    }
    for (from, to, edge) in &graph.edges {
        let arrow = match edge.verdict {
            Verdict::Allowed => "-->",
            Verdict::Inconclusive => "-.->",
            Verdict::Denied => "--x",
        };
        let label = mermaid_text(&edge.label());
        let _ = writeln!(out, "  n{from} {arrow}|\"{label}\"| n{to}");
    }
    for (index, (_, _, edge)) in graph.edges.iter().enumerate() {
        let _ = writeln!(out, "  linkStyle {index} stroke:{}", colour(edge.verdict));
    }
    out
}

/// A Graphviz `digraph` of `paths`, shared nodes as in [`mermaid`].
pub fn dot(paths: &[AccessPath]) -> String {
    let graph = Graph::of(paths);
    let mut out = String::from("digraph access {\n  rankdir=LR;\n");
    for (id, node) in graph.nodes.iter().enumerate() {
        let shape = match node.kind {
            NodeKind::Principal => "ellipse",
            NodeKind::Role => "parallelogram",
            NodeKind::AccessPoint => "box",
            NodeKind::Bucket => "cylinder",
            NodeKind::Key => "hexagon",
        };
        let label = dot_text(&format!("{}: {}", node.kind.word(), node.name));
        let _ = writeln!(out, "  n{id} [shape={shape}, label=\"{label}\"];");
    }
    for (from, to, edge) in &graph.edges {
        let style = match edge.verdict {
            Verdict::Allowed => "solid",
            Verdict::Inconclusive => "dashed",
            Verdict::Denied => "bold",
        };
        let _ = writeln!(
            out,
            "  n{from} -> n{to} [label=\"{}\", color=\"{}\", style={style}];",
            dot_text(&edge.label()),
            colour(edge.verdict)
        );
    }
    out.push_str("}\n");
    out
}

fn colour(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Allowed => "#2da44e",
        Verdict::Inconclusive => "#bf8700",
        Verdict::Denied => "#cf222e",
    }
}

/// Text for inside a quoted Mermaid label. Mermaid reads `#NUMBER;` as the
/// character of that code, so every character but letters, digits and the
/// plain punctuation of ARNs is written so: quotes cannot end the label,
/// `<` cannot open HTML, a backtick cannot end the Markdown fence, a
/// newline cannot start a statement.
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric()
            || matches!(c, ' ' | ':' | '/' | '.' | '_' | '-' | '@' | '+' | '=' | ',')
        {
            out.push(c);
        } else {
            let _ = write!(out, "#{};", u32::from(c));
        }
    }
    out
}

/// Text for inside a quoted Graphviz string: backslash and quote escaped,
/// line breaks and other control characters dropped for a space (a
/// backslash sequence such as `\N` would otherwise mean something).
fn dot_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
