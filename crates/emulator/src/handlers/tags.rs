//! Tags shared by every taggable resource: read from `TagSpecification`, matched by the
//! `tag-key`, `tag-value` and `tag:<key>` filters, rendered as `Tags`.

use super::matches_any;
use crate::util::P;
use serde_json::{json, Value};

/// The tags of `TagSpecification` entries (every resource type given).
pub fn tag_specs(p: &P<'_>) -> Vec<(String, String)> {
    let mut out = vec![];
    for spec in p.arr("TagSpecification") {
        for t in P(spec).arr("Tags") {
            let t = P(t);
            if let Some(k) = t.str("Key") {
                out.push((k, t.str("Value").unwrap_or_default()));
            }
        }
    }
    out
}

/// Whether tags satisfy a `tag-key`, `tag-value` or `tag:<key>` filter; None for another name.
pub fn tag_filter(name: &str, values: &[String], tags: &[(String, String)]) -> Option<bool> {
    Some(match name {
        "tag-key" => tags.iter().any(|(k, _)| matches_any(values, k)),
        "tag-value" => tags.iter().any(|(_, v)| matches_any(values, v)),
        _ => {
            let key = name.strip_prefix("tag:")?;
            tags.iter().any(|(k, v)| k == key && matches_any(values, v))
        }
    })
}

/// Whether `name` is one of the tag filters.
pub fn is_tag_filter(name: &str) -> bool {
    tag_filter(name, &[], &[]).is_some()
}

pub fn render_tags(tags: &[(String, String)]) -> Value {
    tags.iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_filters() {
        let tags = vec![("env".to_string(), "prod".to_string())];
        let v = |s: &str| vec![s.to_string()];
        assert_eq!(tag_filter("tag-key", &v("env"), &tags), Some(true));
        assert_eq!(tag_filter("tag-value", &v("dev"), &tags), Some(false));
        assert_eq!(tag_filter("tag:env", &v("prod"), &tags), Some(true));
        assert_eq!(tag_filter("tag:other", &v("prod"), &tags), Some(false));
        assert_eq!(tag_filter("zone", &v("x"), &tags), None);
        assert!(is_tag_filter("tag:a") && !is_tag_filter("tagx"));
    }
}
