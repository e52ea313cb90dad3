//! Output schemas of the tools from the API's own models: the OpenAPI
//! schema `utoipa` derives for a type, with every `$ref` inlined, is a
//! self-contained JSON Schema an MCP client can check `structuredContent`
//! against. One model, one schema, for the REST API and the tools alike.

use std::sync::Arc;

use serde_json::{Map, Value};
use utoipa::ToSchema;

/// How deep references are inlined (the models are not recursive; this
/// only stops a mistake from looping).
const MAX_DEPTH: usize = 24;

/// The JSON Schema of `T`, self-contained.
pub fn of<T: ToSchema>() -> Arc<Map<String, Value>> {
    let mut deps = Vec::new();
    T::schemas(&mut deps);
    let components: Map<String, Value> = deps
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap_or_default()))
        .collect();
    let root = serde_json::to_value(T::schema()).unwrap_or_default();
    match inline(root, &components, 0) {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(Map::new()),
    }
}

fn inline(value: Value, components: &Map<String, Value>, depth: usize) -> Value {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let name = target.rsplit('/').next().unwrap_or_default();
                return match components.get(name) {
                    Some(found) if depth < MAX_DEPTH => {
                        inline(found.clone(), components, depth + 1)
                    }
                    _ => Value::Object(Map::new()),
                };
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, inline(v, components, depth)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| inline(v, components, depth))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_inlined() {
        let schema = of::<crate::portfolio::Summary>();
        let text = serde_json::to_string(&*schema).unwrap_or_default();
        assert!(!text.contains("$ref"), "{text}");
        assert!(text.contains("investedPaise"), "{text}");
    }
}
