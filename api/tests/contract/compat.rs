//! The changes between two OpenAPI documents that can break a client written against the older
//! one: a released snapshot is compared with the current document so a test fails before a
//! client does.
//!
//! The two sides of an operation are judged in opposite directions. What a client sends
//! (parameters, request bodies) may only be accepted more widely: anything the server now
//! refuses is breaking. What a client reads (response bodies) may only be promised more
//! narrowly: anything the server may now send that the old document ruled out is breaking.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

/// One change that can break a client written against `old`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BreakingChange {
    /// The operation it concerns, e.g. "GET /api/bookings/{booking_ref}" (or the path alone for a removed path).
    pub(crate) operation: String,
    /// One stable line, e.g. "removed response property `total.amount` (200)"; stable so a changelog can quote it.
    pub(crate) what: String,
}

impl fmt::Display for BreakingChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operation, self.what)
    }
}

/// Every change from `old` to `new` that can break a client of `old`, sorted and without repeats.
pub(crate) fn breaking_changes(old: &Value, new: &Value) -> Vec<BreakingChange> {
    let mut checker = Checker { old, new, found: Vec::new(), walking: Vec::new() };
    checker.compare_paths();
    let mut found = checker.found;
    found.sort_by(|a, b| (&a.operation, &a.what).cmp(&(&b.operation, &b.what)));
    found.dedup();
    found
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Real schemas nest a handful of levels; the limit only stops a pathological document.
const MAX_DEPTH: usize = 64;

/// Both documents, since every `$ref` must be resolved in the document it was written in, and
/// what has been found so far.
struct Checker<'a> {
    old: &'a Value,
    new: &'a Value,
    found: Vec<BreakingChange>,
    /// Pairs of named schemas being compared further up the current walk: a recursive schema
    /// (a tree node holding its children) is compared once, not until the depth limit.
    walking: Vec<(String, String)>,
}

/// Where a schema sits, which decides both the direction of the comparison and how a change is
/// named.
#[derive(Clone, Copy)]
enum Site<'s> {
    RequestBody,
    Parameter { location: &'s str, name: &'s str },
    Response { status: &'s str },
}

#[derive(Clone, Copy)]
struct Place<'s> {
    operation: &'s str,
    site: Site<'s>,
}

impl Place<'_> {
    fn is_response(&self) -> bool {
        matches!(self.site, Site::Response { .. })
    }

    /// The schema at `path` as a changelog reader would name it.
    fn subject(&self, path: &str) -> String {
        match (self.site, path) {
            (Site::RequestBody, "") => "request body".to_owned(),
            (Site::RequestBody, path) => format!("request property `{path}`"),
            (Site::Response { .. }, "") => "response body".to_owned(),
            (Site::Response { .. }, path) => format!("response property `{path}`"),
            (Site::Parameter { location, name }, path) => format!("{location} parameter `{}`", join(name, path)),
        }
    }

    /// Responses are told apart by status, so every response line ends with it.
    fn suffix(&self) -> String {
        match self.site {
            Site::Response { status } => format!(" ({status})"),
            _ => String::new(),
        }
    }

    /// "narrowed request property `age`: minimum raised from 0 to 18"
    fn describe(&self, verb: &str, path: &str, detail: &str) -> String {
        format!("{verb} {}: {detail}{}", self.subject(path), self.suffix())
    }
}

impl Checker<'_> {
    fn report(&mut self, operation: &str, what: String) {
        self.found.push(BreakingChange { operation: operation.to_owned(), what });
    }

    fn compare_paths(&mut self) {
        let new_paths = self.new.get("paths");
        for (path, old_item) in entries(self.old.get("paths")) {
            let Some(new_item) = new_paths.and_then(|paths| paths.get(path)) else {
                self.report(path, "removed path".to_owned());
                continue;
            };
            let old_item = resolve(self.old, old_item).1;
            let new_item = resolve(self.new, new_item).1;
            for method in METHODS {
                let Some(old_operation) = old_item.get(method) else { continue };
                let operation = format!("{} {path}", method.to_uppercase());
                match new_item.get(method) {
                    None => self.report(&operation, "removed operation".to_owned()),
                    Some(new_operation) => {
                        self.compare_parameters(&operation, (old_item, old_operation), (new_item, new_operation));
                        self.compare_request_body(&operation, old_operation, new_operation);
                        self.compare_responses(&operation, old_operation, new_operation);
                    }
                }
            }
        }
    }

    fn compare_parameters(&mut self, operation: &str, old: (&Value, &Value), new: (&Value, &Value)) {
        let old_parameters = parameters(self.old, old.0, old.1);
        let new_parameters = parameters(self.new, new.0, new.1);
        for (key, old_parameter) in &old_parameters {
            let (location, name) = (key.0.as_str(), str_at(old_parameter, "name"));
            let Some(new_parameter) = new_parameters.get(key) else {
                self.report(operation, format!("removed {location} parameter `{name}`"));
                continue;
            };
            if !is_required(old_parameter) && is_required(new_parameter) {
                self.report(operation, format!("{location} parameter `{name}` became required"));
            }
            if let (Some(old_schema), Some(new_schema)) =
                (parameter_schema(old_parameter), parameter_schema(new_parameter))
            {
                let place = Place { operation, site: Site::Parameter { location, name } };
                self.compare_schema(place, old_schema, new_schema);
            }
        }
        for (key, new_parameter) in &new_parameters {
            if !old_parameters.contains_key(key) && is_required(new_parameter) {
                let (location, name) = (key.0.as_str(), str_at(new_parameter, "name"));
                self.report(operation, format!("new required {location} parameter `{name}`"));
            }
        }
    }

    fn compare_request_body(&mut self, operation: &str, old_operation: &Value, new_operation: &Value) {
        let old = old_operation.get("requestBody").map(|body| resolve(self.old, body).1);
        let new = new_operation.get("requestBody").map(|body| resolve(self.new, body).1);
        match (old, new) {
            (None, Some(new)) if is_required(new) => self.report(operation, "new required request body".to_owned()),
            (Some(old), Some(new)) => {
                if !is_required(old) && is_required(new) {
                    self.report(operation, "request body became required".to_owned());
                }
                let Some((media_type, old_schema)) = json_schema(old) else { return };
                match new.get("content").and_then(|content| content.get(media_type)) {
                    None => self.report(operation, format!("request body no longer accepts `{media_type}`")),
                    Some(new_media) => {
                        if let Some(new_schema) = new_media.get("schema") {
                            self.compare_schema(Place { operation, site: Site::RequestBody }, old_schema, new_schema);
                        }
                    }
                }
            }
            // A body the server no longer reads is ignored rather than refused.
            _ => {}
        }
    }

    fn compare_responses(&mut self, operation: &str, old_operation: &Value, new_operation: &Value) {
        let new_responses = new_operation.get("responses");
        for (status, old_response) in entries(old_operation.get("responses")) {
            let old_response = resolve(self.old, old_response).1;
            // A response without a body gives a client nothing to parse, so only bodies are held to.
            let Some((media_type, old_schema)) = json_schema(old_response) else { continue };
            let Some(new_response) = new_responses.and_then(|responses| responses.get(status)) else {
                // Clients are written for the successes; an error status that is no longer
                // documented still lands in their generic error handling.
                if status.starts_with('2') {
                    self.report(operation, format!("removed response {status}"));
                }
                continue;
            };
            let new_response = resolve(self.new, new_response).1;
            match new_response.get("content").and_then(|content| content.get(media_type)) {
                None => self.report(operation, format!("removed response content `{media_type}` ({status})")),
                Some(new_media) => {
                    if let Some(new_schema) = new_media.get("schema") {
                        let place = Place { operation, site: Site::Response { status } };
                        self.compare_schema(place, old_schema, new_schema);
                    }
                }
            }
        }
    }

    fn compare_schema(&mut self, place: Place<'_>, old: &Value, new: &Value) {
        self.compare_node(place, "", old, new, 0);
    }

    /// Compares the schemas found at `path`: first what values they admit as a whole (across
    /// their `oneOf`/`anyOf` alternatives), then each alternative with its counterpart.
    fn compare_node(&mut self, place: Place<'_>, path: &str, old: &Value, new: &Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let old_alternatives = alternatives(self.old, old);
        let new_alternatives = alternatives(self.new, new);
        self.compare_types(place, path, union_of_types(&old_alternatives), union_of_types(&new_alternatives));
        for (old, new) in self.pair_alternatives(place, path, &old_alternatives, &new_alternatives) {
            self.compare_alternative(place, path, old, new, depth);
        }
    }

    /// `null` is a type like any other here, which is how OpenAPI 3.1 writes `Option<T>`.
    fn compare_types(&mut self, place: Place<'_>, path: &str, old: Option<Types>, new: Option<Types>) {
        let details: Vec<String> = if place.is_response() {
            match (old, new) {
                (Some(_), None) => vec!["type no longer constrained".to_owned()],
                (Some(old), Some(new)) => new
                    .iter()
                    .filter(|kind| !covers(&old, kind))
                    .map(|kind| if kind == "null" { "now nullable".to_owned() } else { format!("type `{kind}` added") })
                    .collect(),
                _ => Vec::new(),
            }
        } else {
            match (old, new) {
                (None, Some(new)) => vec![format!("type now limited to {}", quoted_list(new.iter()))],
                (Some(old), Some(new)) => old
                    .iter()
                    .filter(|kind| !covers(&new, kind))
                    .map(|kind| {
                        if kind == "null" { "no longer nullable".to_owned() } else { format!("type `{kind}` removed") }
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        let verb = if place.is_response() { "widened" } else { "narrowed" };
        for detail in details {
            self.report(place.operation, place.describe(verb, path, &detail));
        }
    }

    /// Matches each old alternative with the new one it became: by name where they have one,
    /// else by position. A lone alternative on each side is the same value whatever its name.
    fn pair_alternatives<'v>(
        &mut self,
        place: Place<'_>,
        path: &str,
        old: &'v [Alternative],
        new: &'v [Alternative],
    ) -> Vec<(&'v Alternative, &'v Alternative)> {
        let old: Vec<&Alternative> = old.iter().filter(|alternative| !alternative.is_null()).collect();
        let new: Vec<&Alternative> = new.iter().filter(|alternative| !alternative.is_null()).collect();
        if let ([old], [new]) = (old.as_slice(), new.as_slice()) {
            return vec![(old, new)];
        }
        let unnamed_new: Vec<&Alternative> = new.iter().copied().filter(|a| a.name.is_none()).collect();
        let mut pairs = Vec::new();
        let mut unnamed_seen = 0;
        for old_alternative in old {
            let counterpart = match &old_alternative.name {
                Some(name) => new.iter().copied().find(|a| a.name.as_ref() == Some(name)),
                None => {
                    unnamed_seen += 1;
                    unnamed_new.get(unnamed_seen - 1).copied()
                }
            };
            match counterpart {
                Some(new_alternative) => pairs.push((old_alternative, new_alternative)),
                // A response variant the server stops sending is one a client just never sees
                // again; a request variant it stops accepting is refused.
                None if !place.is_response() => {
                    let label = match &old_alternative.name {
                        Some(name) => format!("`{name}`"),
                        None => format!("#{}", unnamed_seen - 1),
                    };
                    let what = place.describe("narrowed", path, &format!("variant {label} removed"));
                    self.report(place.operation, what);
                }
                None => {}
            }
        }
        pairs
    }

    fn compare_alternative(
        &mut self,
        place: Place<'_>,
        path: &str,
        old: &Alternative,
        new: &Alternative,
        depth: usize,
    ) {
        let named_pair = old.name.clone().zip(new.name.clone());
        if let Some(pair) = &named_pair {
            if self.walking.contains(pair) {
                return;
            }
            self.walking.push(pair.clone());
        }
        let (verb, details) = if place.is_response() {
            ("changed", format_changed(&old.schema, &new.schema).into_iter().collect())
        } else {
            ("narrowed", narrowed_constraints(&old.schema, &new.schema))
        };
        for detail in details {
            self.report(place.operation, place.describe(verb, path, &detail));
        }
        if admits(new, "object") {
            self.compare_properties(place, path, &old.schema, &new.schema, depth);
            self.compare_additional_properties(place, path, &old.schema, &new.schema, depth);
        }
        if admits(new, "array")
            && let (Some(old_items), Some(new_items)) = (old.schema.get("items"), new.schema.get("items"))
        {
            self.compare_node(place, &format!("{path}[]"), old_items, new_items, depth + 1);
        }
        if named_pair.is_some() {
            self.walking.pop();
        }
    }

    fn compare_properties(&mut self, place: Place<'_>, path: &str, old: &Value, new: &Value, depth: usize) {
        let (old_required, new_required) = (required(old), required(new));
        let new_properties = new.get("properties");
        for (name, old_property) in entries(old.get("properties")) {
            let child = join(path, name);
            let Some(new_property) = new_properties.and_then(|properties| properties.get(name)) else {
                self.property_removed(place, &child, new);
                continue;
            };
            if place.is_response() && old_required.contains(name.as_str()) && !new_required.contains(name.as_str()) {
                self.report(place.operation, format!("{} no longer required{}", place.subject(&child), place.suffix()));
            }
            self.compare_node(place, &child, old_property, new_property, depth + 1);
        }
        if place.is_response() {
            return;
        }
        let old_properties = old.get("properties");
        for name in new_required.difference(&old_required) {
            let subject = place.subject(&join(path, name));
            let what = match old_properties.and_then(|properties| properties.get(name)) {
                Some(_) => format!("{subject} became required"),
                None => format!("new required {subject}"),
            };
            self.report(place.operation, what);
        }
    }

    fn property_removed(&mut self, place: Place<'_>, path: &str, new_parent: &Value) {
        let refused = new_parent.get("additionalProperties") == Some(&Value::Bool(false));
        // A server that ignores unknown properties still accepts an old client sending one it
        // dropped; only a schema closed with `additionalProperties: false` refuses it.
        if place.is_response() || refused {
            self.report(place.operation, format!("removed {}{}", place.subject(path), place.suffix()));
        }
    }

    /// Maps (`additionalProperties` holding a schema) are walked like properties, under `*`.
    fn compare_additional_properties(&mut self, place: Place<'_>, path: &str, old: &Value, new: &Value, depth: usize) {
        match (old.get("additionalProperties"), new.get("additionalProperties")) {
            (Some(old_values @ Value::Object(_)), Some(new_values @ Value::Object(_))) => {
                self.compare_node(place, &join(path, "*"), old_values, new_values, depth + 1);
            }
            (Some(old_values), Some(Value::Bool(false)))
                if !place.is_response() && *old_values != Value::Bool(false) =>
            {
                let what = place.describe("narrowed", path, "additional properties no longer accepted");
                self.report(place.operation, what);
            }
            _ => {}
        }
    }
}

/// One of the values a schema admits, once `$ref`s are followed, `allOf` is merged and
/// `oneOf`/`anyOf` are spread out.
struct Alternative {
    /// The component it was named by (or its `title`): how variants are matched across documents.
    name: Option<String>,
    schema: Value,
    types: Option<Types>,
}

/// The JSON types a schema admits; `None` when it admits any.
type Types = BTreeSet<String>;

impl Alternative {
    fn is_null(&self) -> bool {
        self.types.as_ref().is_some_and(|types| types.len() == 1 && types.contains("null"))
    }
}

fn admits(alternative: &Alternative, kind: &str) -> bool {
    alternative.types.as_ref().is_none_or(|types| types.contains(kind))
}

fn alternatives(document: &Value, schema: &Value) -> Vec<Alternative> {
    let mut found = Vec::new();
    collect_alternatives(document, schema, 0, &mut found);
    found
}

fn collect_alternatives(document: &Value, schema: &Value, depth: usize, found: &mut Vec<Alternative>) {
    let (reference, resolved) = resolve(document, schema);
    let (merged_reference, schema) = merge_all_of(document, resolved, depth);
    let variants = ["oneOf", "anyOf"].iter().find_map(|keyword| schema.get(*keyword)).and_then(Value::as_array);
    match variants {
        Some(variants) if depth < MAX_DEPTH => {
            for variant in variants {
                collect_alternatives(document, variant, depth + 1, found);
            }
        }
        _ => {
            let title = schema.get("title").and_then(Value::as_str).map(str::to_owned);
            let types = types_of(&schema);
            found.push(Alternative { name: reference.or(merged_reference).or(title), schema, types });
        }
    }
}

/// Follows local `$ref`s to the schema (or parameter, body, response) they point at, keeping
/// the last name on the way.
fn resolve<'v>(document: &'v Value, mut value: &'v Value) -> (Option<String>, &'v Value) {
    let mut name = None;
    for _ in 0..MAX_DEPTH {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else { break };
        let Some(target) = reference.strip_prefix('#').and_then(|pointer| document.pointer(pointer)) else { break };
        name = Some(reference.rsplit('/').next().unwrap_or(reference).to_owned());
        value = target;
    }
    (name, value)
}

/// One schema for an `allOf`: properties and `required` are the union of the members', any
/// other keyword keeps the first value given. An `allOf` of a single `$ref` (how a documented
/// field refers to a component) keeps that component's name.
fn merge_all_of(document: &Value, schema: &Value, depth: usize) -> (Option<String>, Value) {
    let (Some(members), Some(outer)) = (schema.get("allOf").and_then(Value::as_array), schema.as_object()) else {
        return (None, schema.clone());
    };
    let mut merged = outer.clone();
    merged.remove("allOf");
    let mut names = Vec::new();
    for member in members {
        let (name, resolved) = resolve(document, member);
        let (inner_name, flat) =
            if depth < MAX_DEPTH { merge_all_of(document, resolved, depth + 1) } else { (None, resolved.clone()) };
        names.push(name.or(inner_name));
        if let Value::Object(flat) = flat {
            merge_into(&mut merged, flat);
        }
    }
    let name = if let [only] = names.as_slice() { only.clone() } else { None };
    (name, Value::Object(merged))
}

fn merge_into(target: &mut Map<String, Value>, source: Map<String, Value>) {
    for (keyword, value) in source {
        match (keyword.as_str(), target.get_mut(&keyword), value) {
            ("properties", Some(Value::Object(properties)), Value::Object(more)) => {
                for (name, property) in more {
                    properties.entry(name).or_insert(property);
                }
            }
            ("required", Some(Value::Array(names)), Value::Array(more)) => {
                for name in more {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, value) => {
                target.insert(keyword, value);
            }
        }
    }
}

/// The types of `type` (a string or, in 3.1, a list), else what the schema's keywords imply;
/// OpenAPI 3.0's `nullable: true` counts as `null`.
fn types_of(schema: &Value) -> Option<Types> {
    let mut types: Types = match schema.get("type") {
        Some(Value::String(kind)) => BTreeSet::from([kind.clone()]),
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => implied_types(schema)?,
    };
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        types.insert("null".to_owned());
    }
    Some(types)
}

fn implied_types(schema: &Value) -> Option<Types> {
    if ["properties", "additionalProperties", "required"].iter().any(|keyword| schema.get(*keyword).is_some()) {
        return Some(BTreeSet::from(["object".to_owned()]));
    }
    if schema.get("items").is_some() {
        return Some(BTreeSet::from(["array".to_owned()]));
    }
    enum_values(schema).map(|values| values.iter().map(|value| json_type(value).to_owned()).collect())
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// What all the alternatives admit together; `None` (anything) if one of them admits anything.
fn union_of_types(alternatives: &[Alternative]) -> Option<Types> {
    let mut union = Types::new();
    for alternative in alternatives {
        union.extend(alternative.types.as_ref()?.iter().cloned());
    }
    Some(union)
}

/// Every integer is a number, so `number` covers `integer`.
fn covers(types: &Types, kind: &str) -> bool {
    types.contains(kind) || (kind == "integer" && types.contains("number"))
}

/// What a request-side schema stopped accepting, keyword by keyword (types are compared
/// across all alternatives, before this).
fn narrowed_constraints(old: &Value, new: &Value) -> Vec<String> {
    let mut details = Vec::new();
    details.extend(bound_tightened(old, new, End::Lower));
    details.extend(bound_tightened(old, new, End::Upper));
    for keyword in ["minLength", "minItems", "minProperties"] {
        details.extend(count_tightened(old, new, keyword, End::Lower));
    }
    for keyword in ["maxLength", "maxItems", "maxProperties"] {
        details.extend(count_tightened(old, new, keyword, End::Upper));
    }
    for keyword in ["pattern", "format"] {
        details.extend(text_tightened(old, new, keyword));
    }
    details.extend(enum_narrowed(old, new));
    details
}

/// Typed clients parse a response by its `format` (a date-time, a UUID, an int32), so for
/// responses a changed or dropped format breaks them even where the JSON type holds.
fn format_changed(old: &Value, new: &Value) -> Option<String> {
    match (str_of(old, "format")?, str_of(new, "format")) {
        (old, None) => Some(format!("format `{old}` removed")),
        (old, Some(new)) if old != new => Some(format!("format changed from `{old}` to `{new}`")),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum End {
    Lower,
    Upper,
}

impl End {
    fn keywords(self) -> (&'static str, &'static str) {
        match self {
            End::Lower => ("minimum", "exclusiveMinimum"),
            End::Upper => ("maximum", "exclusiveMaximum"),
        }
    }

    fn verb(self) -> &'static str {
        match self {
            End::Lower => "raised",
            End::Upper => "lowered",
        }
    }

    /// The ordering a new limit has to the old one when it admits less.
    fn tighter(self) -> Ordering {
        match self {
            End::Lower => Ordering::Greater,
            End::Upper => Ordering::Less,
        }
    }
}

struct Bound {
    keyword: &'static str,
    value: f64,
    shown: String,
    exclusive: bool,
}

impl Bound {
    fn is_tighter_than(&self, other: &Bound, end: End) -> bool {
        match self.value.partial_cmp(&other.value) {
            Some(Ordering::Equal) => self.exclusive && !other.exclusive,
            Some(ordering) => ordering == end.tighter(),
            None => false,
        }
    }
}

/// The limit in force at one end, from `minimum`/`exclusiveMinimum` (or their maximum
/// counterparts), whichever admits less.
fn bound(schema: &Value, end: End) -> Option<Bound> {
    let (inclusive_keyword, exclusive_keyword) = end.keywords();
    let number = |keyword: &'static str, exclusive: bool| {
        let value = schema.get(keyword).filter(|value| value.is_number())?;
        Some(Bound { keyword, value: value.as_f64()?, shown: value.to_string(), exclusive })
    };
    let inclusive = number(inclusive_keyword, false);
    let exclusive = match schema.get(exclusive_keyword) {
        // OpenAPI 3.0 wrote exclusivity as a flag beside `minimum`/`maximum`.
        Some(Value::Bool(true)) => inclusive.as_ref().map(|limit| Bound {
            keyword: exclusive_keyword,
            shown: limit.shown.clone(),
            exclusive: true,
            ..*limit
        }),
        _ => number(exclusive_keyword, true),
    };
    match (inclusive, exclusive) {
        (Some(inclusive), Some(exclusive)) => {
            Some(if exclusive.is_tighter_than(&inclusive, end) { exclusive } else { inclusive })
        }
        (inclusive, exclusive) => inclusive.or(exclusive),
    }
}

fn bound_tightened(old: &Value, new: &Value, end: End) -> Option<String> {
    let new = bound(new, end)?;
    match bound(old, end) {
        None => Some(format!("{} {} added", new.keyword, new.shown)),
        Some(old) if new.is_tighter_than(&old, end) => Some(if old.keyword == new.keyword {
            format!("{} {} from {} to {}", new.keyword, end.verb(), old.shown, new.shown)
        } else {
            format!("{} {} became {} {}", old.keyword, old.shown, new.keyword, new.shown)
        }),
        Some(_) => None,
    }
}

/// `minLength` and its kind; a missing minimum is 0, a missing maximum no limit at all.
fn count_tightened(old: &Value, new: &Value, keyword: &str, end: End) -> Option<String> {
    let new = new.get(keyword).and_then(Value::as_u64)?;
    let old = old.get(keyword).and_then(Value::as_u64);
    match (old, end) {
        (None, End::Lower) if new > 0 => Some(format!("{keyword} {new} added")),
        (None, End::Upper) => Some(format!("{keyword} {new} added")),
        (Some(old), _) if new.cmp(&old) == end.tighter() => {
            Some(format!("{keyword} {} from {old} to {new}", end.verb()))
        }
        _ => None,
    }
}

/// `pattern` and `format`: any new or different one may refuse a value the old one accepted.
fn text_tightened(old: &Value, new: &Value, keyword: &str) -> Option<String> {
    match (str_of(old, keyword), str_of(new, keyword)?) {
        (None, new) => Some(format!("{keyword} `{new}` added")),
        (Some(old), new) if old != new => Some(format!("{keyword} changed from `{old}` to `{new}`")),
        _ => None,
    }
}

/// Only requests are checked: a response enum gaining values is left to clients, which are
/// expected to tolerate a value they do not know, or a status could never gain a state.
fn enum_narrowed(old: &Value, new: &Value) -> Vec<String> {
    let Some(new_values) = enum_values(new) else { return Vec::new() };
    match enum_values(old) {
        None => vec![format!("enum added ({})", quoted_list(new_values.iter().map(shown)))],
        Some(old_values) => old_values
            .iter()
            .filter(|value| !new_values.contains(value))
            .map(|value| format!("enum value `{}` removed", shown(value)))
            .collect(),
    }
}

/// `enum`, or `const` as the one-value enum it is.
fn enum_values(schema: &Value) -> Option<Vec<Value>> {
    match (schema.get("enum"), schema.get("const")) {
        (Some(Value::Array(values)), _) => Some(values.clone()),
        (_, Some(value)) => Some(vec![value.clone()]),
        _ => None,
    }
}

/// Parameters by (location, name), the path item's overridden by the operation's own; header
/// names are matched without case, as HTTP does.
fn parameters<'v>(
    document: &'v Value,
    path_item: &'v Value,
    operation: &'v Value,
) -> BTreeMap<(String, String), &'v Value> {
    let mut found = BTreeMap::new();
    for list in [path_item.get("parameters"), operation.get("parameters")] {
        for parameter in list.and_then(Value::as_array).into_iter().flatten() {
            let parameter = resolve(document, parameter).1;
            let (location, name) = (str_at(parameter, "in"), str_at(parameter, "name"));
            let name = if location == "header" { name.to_ascii_lowercase() } else { name.to_owned() };
            found.insert((location.to_owned(), name), parameter);
        }
    }
    found
}

/// A parameter's `schema`, or the one under its `content` when it is serialized as JSON.
fn parameter_schema(parameter: &Value) -> Option<&Value> {
    parameter.get("schema").or_else(|| json_schema(parameter).map(|(_, schema)| schema))
}

/// The JSON media type of a body and its schema: `application/json` if present, else any
/// `+json` type (an error's `application/problem+json`).
fn json_schema(body: &Value) -> Option<(&str, &Value)> {
    let content = body.get("content")?.as_object()?;
    let (media_type, media) = content
        .get_key_value("application/json")
        .or_else(|| content.iter().find(|(media_type, _)| media_type.contains("json")))?;
    Some((media_type.as_str(), media.get("schema")?))
}

fn required(schema: &Value) -> BTreeSet<&str> {
    schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect()
}

fn is_required(value: &Value) -> bool {
    value.get("required") == Some(&Value::Bool(true))
}

fn entries(object: Option<&Value>) -> impl Iterator<Item = (&String, &Value)> {
    object.and_then(Value::as_object).into_iter().flatten()
}

fn str_of<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

fn str_at<'v>(value: &'v Value, key: &str) -> &'v str {
    str_of(value, key).unwrap_or_default()
}

/// `total` + `amount` is `total.amount`; array items are already suffixed with `[]`.
fn join(path: &str, name: &str) -> String {
    match (path, name) {
        ("", name) => name.to_owned(),
        (path, "") => path.to_owned(),
        (path, name) if name.starts_with('[') => format!("{path}{name}"),
        (path, name) => format!("{path}.{name}"),
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn quoted_list(items: impl IntoIterator<Item = impl fmt::Display>) -> String {
    items.into_iter().map(|item| format!("`{item}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document(paths: Value) -> Value {
        json!({"openapi": "3.1.0", "info": {"title": "bookings", "version": "1"}, "paths": paths})
    }

    fn with_schemas(mut document: Value, schemas: Value) -> Value {
        document["components"] = json!({ "schemas": schemas });
        document
    }

    fn json_content(schema: Value) -> Value {
        json!({ "application/json": { "schema": schema } })
    }

    /// `GET /things` answering 200 with `schema`.
    fn returning(schema: Value) -> Value {
        document(json!({
            "/things": { "get": { "responses": { "200": { "description": "ok", "content": json_content(schema) } } } }
        }))
    }

    /// `POST /things` taking `schema` as its required body.
    fn accepting(schema: Value) -> Value {
        document(json!({
            "/things": { "post": {
                "requestBody": { "required": true, "content": json_content(schema) },
                "responses": { "201": { "description": "created" } }
            } }
        }))
    }

    /// A request body holding one property, `field`, with the schema given.
    fn accepting_field(field: Value) -> Value {
        accepting(json!({ "type": "object", "properties": { "field": field } }))
    }

    fn lines(old: &Value, new: &Value) -> Vec<String> {
        breaking_changes(old, new).iter().map(ToString::to_string).collect()
    }

    fn narrowing(old_field: Value, new_field: Value) -> Vec<String> {
        lines(&accepting_field(old_field), &accepting_field(new_field))
    }

    /// A document using most of what the checker reads: parameters at both levels, a `$ref`
    /// body, an optional component field and a list.
    fn bookings_api() -> Value {
        let paths = json!({
            "/bookings/{booking_ref}": {
                "parameters": [{ "in": "path", "name": "booking_ref", "required": true, "schema": { "type": "string" } }],
                "get": {
                    "parameters": [{ "in": "header", "name": "If-None-Match", "schema": { "type": "string" } }],
                    "responses": {
                        "200": { "description": "the booking", "content": json_content(json!({ "$ref": "#/components/schemas/Booking" })) },
                        "404": { "description": "unknown", "content": json_content(json!({ "$ref": "#/components/schemas/Error" })) }
                    }
                }
            },
            "/bookings": {
                "post": {
                    "requestBody": { "required": true, "content": json_content(json!({ "$ref": "#/components/schemas/NewBooking" })) },
                    "responses": { "202": { "description": "accepted", "content": json_content(json!({ "$ref": "#/components/schemas/Booking" })) } }
                },
                "get": {
                    "parameters": [{ "in": "query", "name": "limit", "schema": { "type": "integer", "minimum": 1, "maximum": 100 } }],
                    "responses": { "200": { "description": "bookings", "content": json_content(json!({
                        "type": "object",
                        "required": ["items"],
                        "properties": { "items": { "type": "array", "items": { "$ref": "#/components/schemas/Booking" } } }
                    })) } }
                }
            }
        });
        let schemas = json!({
            "Booking": {
                "type": "object",
                "required": ["booking_ref", "status", "total"],
                "properties": {
                    "booking_ref": { "type": "string" },
                    "status": { "type": "string", "enum": ["pending", "confirmed"] },
                    "total": { "$ref": "#/components/schemas/Money" },
                    "guest": { "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Guest" }] }
                }
            },
            "Money": {
                "type": "object",
                "required": ["amount", "currency"],
                "properties": { "amount": { "type": "string" }, "currency": { "type": "string" } }
            },
            "Guest": { "type": "object", "required": ["name"], "properties": { "name": { "type": "string" } } },
            "NewBooking": {
                "type": "object",
                "required": ["stay_id", "rooms"],
                "properties": {
                    "stay_id": { "type": "string", "format": "uuid" },
                    "rooms": { "type": "integer", "format": "int32", "minimum": 1 },
                    "note": { "type": ["string", "null"], "maxLength": 500 }
                }
            },
            "Error": { "type": "object", "properties": { "error": { "type": "string" } } }
        });
        with_schemas(document(paths), schemas)
    }

    #[test]
    fn identical_documents_have_no_breaking_changes() {
        assert_eq!(lines(&bookings_api(), &bookings_api()), Vec::<String>::new());
    }

    #[test]
    fn a_new_optional_field_breaks_nothing() {
        let mut new = bookings_api();
        new["components"]["schemas"]["NewBooking"]["properties"]["promo_code"] = json!({ "type": "string" });
        new["components"]["schemas"]["Booking"]["properties"]["promo_code"] = json!({ "type": ["string", "null"] });
        assert_eq!(lines(&bookings_api(), &new), Vec::<String>::new());
    }

    #[test]
    fn removed_paths_and_operations_break() {
        let mut new = bookings_api();
        new["paths"].as_object_mut().unwrap().remove("/bookings/{booking_ref}");
        new["paths"]["/bookings"].as_object_mut().unwrap().remove("post");
        assert_eq!(
            lines(&bookings_api(), &new),
            ["/bookings/{booking_ref}: removed path", "POST /bookings: removed operation"]
        );
    }

    #[test]
    fn parameters_removed_required_or_narrowed_break() {
        let old = document(json!({ "/stays/{stay_id}": {
            "parameters": [{ "in": "path", "name": "stay_id", "required": true, "schema": { "type": "string" } }],
            "get": {
                "parameters": [
                    { "in": "query", "name": "limit", "schema": { "type": "integer", "maximum": 100 } },
                    { "in": "query", "name": "cursor", "schema": { "type": "string" } },
                    { "in": "query", "name": "currency", "schema": { "type": "string" } },
                    { "in": "header", "name": "X-Request-Id", "schema": { "type": "string" } },
                    { "in": "header", "name": "If-Match", "schema": { "type": "string" } }
                ],
                "responses": { "200": { "description": "ok" } }
            }
        } }));
        // The path parameter moves to the operation and a header changes case: neither is seen by a client.
        let new = document(json!({ "/stays/{stay_id}": { "get": {
            "parameters": [
                { "in": "path", "name": "stay_id", "required": true, "schema": { "type": "string" } },
                { "in": "query", "name": "limit", "schema": { "type": "integer", "maximum": 50 } },
                { "in": "query", "name": "currency", "required": true, "schema": { "type": "string" } },
                { "in": "query", "name": "region", "required": true, "schema": { "type": "string" } },
                { "in": "query", "name": "lang", "schema": { "type": "string" } },
                { "in": "header", "name": "x-request-id", "schema": { "type": "string" } },
                { "in": "header", "name": "If-Match", "required": true, "schema": { "type": "string" } }
            ],
            "responses": { "200": { "description": "ok" } }
        } } }));
        assert_eq!(
            lines(&old, &new),
            [
                "GET /stays/{stay_id}: header parameter `If-Match` became required",
                "GET /stays/{stay_id}: narrowed query parameter `limit`: maximum lowered from 100 to 50",
                "GET /stays/{stay_id}: new required query parameter `region`",
                "GET /stays/{stay_id}: query parameter `currency` became required",
                "GET /stays/{stay_id}: removed query parameter `cursor`",
            ]
        );
    }

    #[test]
    fn a_path_level_parameter_removed_breaks() {
        let old = document(json!({ "/stays": {
            "parameters": [{ "in": "query", "name": "region", "schema": { "type": "string" } }],
            "get": { "responses": { "200": { "description": "ok" } } }
        } }));
        let new = document(json!({ "/stays": { "get": { "responses": { "200": { "description": "ok" } } } } }));
        assert_eq!(lines(&old, &new), ["GET /stays: removed query parameter `region`"]);
    }

    #[test]
    fn request_bodies_that_refuse_old_requests_break() {
        let mut old = bookings_api();
        old["paths"]["/bookings"]["post"]["requestBody"]["required"] = json!(false);
        let mut new = bookings_api();
        let new_booking = &mut new["components"]["schemas"]["NewBooking"];
        new_booking["required"] = json!(["rooms", "note", "guest_email"]);
        new_booking["properties"]["guest_email"] = json!({ "type": "string" });
        new_booking["properties"]["rooms"]["type"] = json!("string");
        // Dropped from an open schema: an old client still sending it is not refused.
        new_booking["properties"].as_object_mut().unwrap().remove("stay_id");
        assert_eq!(
            lines(&old, &new),
            [
                "POST /bookings: narrowed request property `rooms`: type `integer` removed",
                "POST /bookings: new required request property `guest_email`",
                "POST /bookings: request body became required",
                "POST /bookings: request property `note` became required",
            ]
        );
    }

    #[test]
    fn a_removed_request_property_breaks_only_when_unknown_properties_are_refused() {
        let old = accepting(json!({ "type": "object", "properties": { "note": { "type": "string" } } }));
        let open = accepting(json!({ "type": "object", "properties": {} }));
        let closed = accepting(json!({ "type": "object", "properties": {}, "additionalProperties": false }));
        assert_eq!(lines(&old, &open), Vec::<String>::new());
        assert_eq!(lines(&old, &closed), ["POST /things: removed request property `note`"]);
    }

    #[test]
    fn responses_that_surprise_old_clients_break() {
        let mut new = bookings_api();
        let get_booking = &mut new["paths"]["/bookings/{booking_ref}"]["get"]["responses"];
        get_booking.as_object_mut().unwrap().remove("404");
        new["paths"]["/bookings"]["post"]["responses"] = json!({ "201": { "description": "created" } });
        let booking = &mut new["components"]["schemas"]["Booking"];
        booking["required"] = json!(["booking_ref", "status"]);
        booking["properties"]["booking_ref"]["type"] = json!("integer");
        booking["properties"]["status"]["enum"] = json!(["pending", "confirmed", "cancelled"]);
        let money = &mut new["components"]["schemas"]["Money"];
        money["properties"].as_object_mut().unwrap().remove("amount");
        money["properties"]["currency"]["type"] = json!(["string", "null"]);
        assert_eq!(
            lines(&bookings_api(), &new),
            [
                "GET /bookings: removed response property `items[].total.amount` (200)",
                "GET /bookings: response property `items[].total` no longer required (200)",
                "GET /bookings: widened response property `items[].booking_ref`: type `integer` added (200)",
                "GET /bookings: widened response property `items[].total.currency`: now nullable (200)",
                "GET /bookings/{booking_ref}: removed response property `total.amount` (200)",
                "GET /bookings/{booking_ref}: response property `total` no longer required (200)",
                "GET /bookings/{booking_ref}: widened response property `booking_ref`: type `integer` added (200)",
                "GET /bookings/{booking_ref}: widened response property `total.currency`: now nullable (200)",
                "POST /bookings: removed response 202",
            ]
        );
    }

    #[test]
    fn request_schemas_narrowed_keyword_by_keyword_break() {
        let cases = [
            (json!({ "type": ["string", "null"] }), json!({ "type": "string" }), "no longer nullable"),
            (json!({ "type": ["string", "integer"] }), json!({ "type": "string" }), "type `integer` removed"),
            (json!({ "type": "string", "nullable": true }), json!({ "type": "string" }), "no longer nullable"),
            (json!({ "enum": ["a", "b"] }), json!({ "enum": ["a"] }), "enum value `b` removed"),
            (json!({ "type": "string" }), json!({ "type": "string", "enum": ["a"] }), "enum added (`a`)"),
            (
                json!({ "type": "integer", "minimum": 0 }),
                json!({ "type": "integer", "minimum": 18 }),
                "minimum raised from 0 to 18",
            ),
            (json!({ "type": "integer" }), json!({ "type": "integer", "minimum": 1 }), "minimum 1 added"),
            (
                json!({ "type": "integer", "minimum": 0 }),
                json!({ "type": "integer", "exclusiveMinimum": 0 }),
                "minimum 0 became exclusiveMinimum 0",
            ),
            (
                json!({ "type": "number", "exclusiveMinimum": 0 }),
                json!({ "type": "number", "exclusiveMinimum": 0.5 }),
                "exclusiveMinimum raised from 0 to 0.5",
            ),
            (
                json!({ "type": "integer", "maximum": 100 }),
                json!({ "type": "integer", "maximum": 10 }),
                "maximum lowered from 100 to 10",
            ),
            (
                json!({ "type": "string", "minLength": 1 }),
                json!({ "type": "string", "minLength": 3 }),
                "minLength raised from 1 to 3",
            ),
            (json!({ "type": "string" }), json!({ "type": "string", "maxLength": 64 }), "maxLength 64 added"),
            (
                json!({ "type": "string", "maxLength": 255 }),
                json!({ "type": "string", "maxLength": 64 }),
                "maxLength lowered from 255 to 64",
            ),
            (
                json!({ "type": "string" }),
                json!({ "type": "string", "pattern": "^[A-Z]+$" }),
                "pattern `^[A-Z]+$` added",
            ),
            (json!({ "type": "string" }), json!({ "type": "string", "format": "email" }), "format `email` added"),
            (
                json!({ "type": "array", "minItems": 1 }),
                json!({ "type": "array", "minItems": 2 }),
                "minItems raised from 1 to 2",
            ),
            (
                json!({ "type": "array", "maxItems": 9 }),
                json!({ "type": "array", "maxItems": 8 }),
                "maxItems lowered from 9 to 8",
            ),
        ];
        for (old, new, detail) in cases {
            let expected = format!("POST /things: narrowed request property `field`: {detail}");
            assert_eq!(narrowing(old.clone(), new.clone()), [expected], "{old} -> {new}");
            // The same change the other way round only accepts more.
            assert_eq!(narrowing(new.clone(), old.clone()), Vec::<String>::new(), "{new} -> {old}");
        }
    }

    #[test]
    fn a_changed_pattern_or_format_breaks_either_way() {
        // Neither is ordered, so any other pattern or format may refuse what the old one let through.
        assert_eq!(
            narrowing(json!({ "type": "string", "pattern": "^a" }), json!({ "type": "string", "pattern": "^b" })),
            ["POST /things: narrowed request property `field`: pattern changed from `^a` to `^b`"]
        );
        assert_eq!(
            narrowing(json!({ "type": "integer", "format": "int64" }), json!({ "type": "integer", "format": "int32" })),
            ["POST /things: narrowed request property `field`: format changed from `int64` to `int32`"]
        );
    }

    #[test]
    fn widening_a_request_schema_breaks_nothing() {
        assert_eq!(narrowing(json!({ "type": "integer" }), json!({ "type": "number" })), Vec::<String>::new());
        assert_eq!(
            narrowing(json!({ "type": "integer", "minimum": 1 }), json!({ "type": "integer", "exclusiveMinimum": 0 })),
            Vec::<String>::new()
        );
        assert_eq!(
            narrowing(json!({ "type": "string", "minLength": 0 }), json!({ "type": "string" })),
            Vec::<String>::new()
        );
        assert_eq!(
            narrowing(json!({ "type": "string" }), json!({ "type": "string", "minLength": 0 })),
            Vec::<String>::new()
        );
    }

    #[test]
    fn closing_a_request_map_breaks() {
        let old = accepting_field(json!({ "type": "object", "additionalProperties": { "type": "integer" } }));
        let new = accepting_field(json!({ "type": "object", "additionalProperties": false }));
        assert_eq!(
            lines(&old, &new),
            ["POST /things: narrowed request property `field`: additional properties no longer accepted"]
        );
        let narrower =
            accepting_field(json!({ "type": "object", "additionalProperties": { "type": "integer", "maximum": 9 } }));
        assert_eq!(lines(&old, &narrower), ["POST /things: narrowed request property `field.*`: maximum 9 added"]);
    }

    #[test]
    fn ref_chains_and_optional_components_are_followed() {
        // `Listing` names `Entry` through an alias, and `guest` is how an `Option<Guest>` field is written.
        let schemas = |guest_properties: Value, host: Value| {
            json!({
                "Listing": { "type": "object", "properties": { "items": { "type": "array", "items": { "$ref": "#/components/schemas/EntryAlias" } } } },
                "EntryAlias": { "$ref": "#/components/schemas/Entry" },
                "Entry": {
                    "type": "object",
                    "properties": {
                        "guest": { "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Guest" }] },
                        "host": host
                    }
                },
                "Guest": { "type": "object", "properties": guest_properties }
            })
        };
        let listing = json!({ "$ref": "#/components/schemas/Listing" });
        let guest = json!({ "name": { "type": "string" }, "email": { "type": "string" } });
        let host = json!({ "$ref": "#/components/schemas/Guest" });
        let old = with_schemas(returning(listing.clone()), schemas(guest.clone(), host.clone()));
        assert_eq!(lines(&old, &old), Vec::<String>::new());

        let optional_host = json!({ "oneOf": [{ "type": "null" }, host] });
        let new = with_schemas(returning(listing), schemas(json!({ "name": { "type": "string" } }), optional_host));
        assert_eq!(
            lines(&old, &new),
            [
                "GET /things: removed response property `items[].guest.email` (200)",
                "GET /things: removed response property `items[].host.email` (200)",
                "GET /things: widened response property `items[].host`: now nullable (200)",
            ]
        );
    }

    #[test]
    fn a_field_made_optional_in_a_request_breaks_nothing_and_the_reverse_does() {
        let required_guest = accepting_field(json!({ "$ref": "#/components/schemas/Guest" }));
        let optional_guest =
            accepting_field(json!({ "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Guest" }] }));
        let guest = json!({ "Guest": { "type": "object", "properties": { "name": { "type": "string" } } } });
        let required_guest = with_schemas(required_guest, guest.clone());
        let optional_guest = with_schemas(optional_guest, guest);
        assert_eq!(lines(&required_guest, &optional_guest), Vec::<String>::new());
        assert_eq!(
            lines(&optional_guest, &required_guest),
            ["POST /things: narrowed request property `field`: no longer nullable"]
        );
    }

    #[test]
    fn all_of_members_are_merged() {
        let schemas = |base_required: Value| {
            json!({
                "Base": { "type": "object", "required": base_required, "properties": { "id": { "type": "string" }, "code": { "type": "string" } } }
            })
        };
        let body = json!({ "allOf": [
            { "$ref": "#/components/schemas/Base" },
            { "type": "object", "required": ["extra"], "properties": { "extra": { "type": "string" } } }
        ] });
        let old = with_schemas(accepting(body.clone()), schemas(json!(["id"])));
        let new = with_schemas(accepting(body), schemas(json!(["id", "code"])));
        assert_eq!(lines(&old, &old), Vec::<String>::new());
        assert_eq!(lines(&old, &new), ["POST /things: request property `code` became required"]);
    }

    #[test]
    fn a_variant_removed_breaks_a_request_but_not_a_response() {
        let payment = |variants: Value| {
            json!({
                "Payment": { "oneOf": variants },
                "Card": { "type": "object", "properties": { "number": { "type": "string" } } },
                "Voucher": { "type": "object", "properties": { "code": { "type": "string" } } }
            })
        };
        let both =
            payment(json!([{ "$ref": "#/components/schemas/Card" }, { "$ref": "#/components/schemas/Voucher" }]));
        let card_only = payment(json!([{ "$ref": "#/components/schemas/Card" }]));
        let field = json!({ "$ref": "#/components/schemas/Payment" });
        let request = |schemas: &Value| with_schemas(accepting_field(field.clone()), schemas.clone());
        let response = |schemas: &Value| with_schemas(returning(field.clone()), schemas.clone());
        assert_eq!(
            lines(&request(&both), &request(&card_only)),
            ["POST /things: narrowed request property `field`: variant `Voucher` removed"]
        );
        assert_eq!(lines(&response(&both), &response(&card_only)), Vec::<String>::new());
    }

    #[test]
    fn a_recursive_schema_is_compared_once() {
        let node = |properties: Value| json!({ "Node": { "type": "object", "properties": properties } });
        let children = json!({ "type": "array", "items": { "$ref": "#/components/schemas/Node" } });
        let parent = json!({ "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Node" }] });
        let root = json!({ "$ref": "#/components/schemas/Node" });
        let old = with_schemas(
            returning(root.clone()),
            node(json!({ "label": { "type": "string" }, "children": children, "parent": parent })),
        );
        let new = with_schemas(returning(root), node(json!({ "children": children, "parent": parent })));
        assert_eq!(lines(&old, &old), Vec::<String>::new());
        assert_eq!(lines(&old, &new), ["GET /things: removed response property `label` (200)"]);
    }

    #[test]
    fn additions_and_documentation_break_nothing() {
        let mut new = bookings_api();
        let paths = new["paths"].as_object_mut().unwrap();
        paths.insert("/stays".to_owned(), json!({ "get": { "responses": { "200": { "description": "ok" } } } }));
        let bookings = paths["/bookings"].as_object_mut().unwrap();
        bookings.insert("delete".to_owned(), json!({ "responses": { "204": { "description": "gone" } } }));
        bookings["get"]["parameters"][0]["description"] = json!("at most this many");
        bookings["get"]["parameters"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "in": "query", "name": "status", "schema": { "type": "string" } }));
        bookings["get"]["responses"]["429"] = json!({ "description": "slow down" });
        let schemas = &mut new["components"]["schemas"];
        schemas["Booking"]["description"] = json!("A booking as its guest sees it.");
        schemas["Booking"]["properties"]["booking_ref"]["example"] = json!("TRP-1234");
        schemas["Booking"]["properties"]["nights"] = json!({ "type": "integer", "minimum": 1 });
        schemas["NewBooking"]["properties"]["rooms"]["minimum"] = json!(0);
        schemas["NewBooking"]["properties"]["note"]["maxLength"] = json!(1000);
        assert_eq!(lines(&bookings_api(), &new), Vec::<String>::new());
    }

    #[test]
    fn response_enums_gaining_values_are_left_to_clients() {
        let old = returning(json!({ "type": "string", "enum": ["pending", "confirmed"] }));
        let new = returning(json!({ "type": "string", "enum": ["pending", "confirmed", "cancelled"] }));
        assert_eq!(lines(&old, &new), Vec::<String>::new());
    }

    #[test]
    fn response_formats_and_removed_content_break() {
        let old = returning(json!({ "type": "object", "properties": {
            "at": { "type": "string", "format": "date-time" },
            "id": { "type": "string", "format": "uuid" }
        } }));
        let new = returning(json!({ "type": "object", "properties": {
            "at": { "type": "string", "format": "date" },
            "id": { "type": "string" }
        } }));
        assert_eq!(
            lines(&old, &new),
            [
                "GET /things: changed response property `at`: format changed from `date-time` to `date` (200)",
                "GET /things: changed response property `id`: format `uuid` removed (200)",
            ]
        );
        let text = document(json!({ "/things": { "get": { "responses": { "200": {
            "description": "ok", "content": { "text/plain": { "schema": { "type": "string" } } }
        } } } } }));
        assert_eq!(lines(&old, &text), ["GET /things: removed response content `application/json` (200)"]);
    }

    #[test]
    fn changes_are_sorted_without_repeats() {
        let old = bookings_api();
        let mut new = bookings_api();
        new["components"]["schemas"]["Money"]["properties"].as_object_mut().unwrap().remove("currency");
        let changes = breaking_changes(&old, &new);
        let mut sorted = changes.clone();
        sorted.sort_by(|a, b| (&a.operation, &a.what).cmp(&(&b.operation, &b.what)));
        sorted.dedup();
        assert_eq!(changes, sorted);
        // `Booking` is read by three operations; each names the change once.
        assert_eq!(
            changes.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "GET /bookings: removed response property `items[].total.currency` (200)",
                "GET /bookings/{booking_ref}: removed response property `total.currency` (200)",
                "POST /bookings: removed response property `total.currency` (202)",
            ]
        );
        assert_eq!(breaking_changes(&old, &new), changes);
    }
}
