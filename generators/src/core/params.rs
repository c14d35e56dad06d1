//! Setting configuration fields by their documented names, as the `generate` command
//! and declarative pipelines do: `event_rate=1000`, `bounce_rate=0.2`,
//! `funnel_stages=["a","b"]`.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::GeneratorError;

/// Returns `config` with each `(name, value)` applied. A value is read as JSON when it
/// parses as JSON (numbers, booleans, lists) and as a string otherwise.
///
/// ```
/// use tidewater_generators::core::apply_params;
/// use tidewater_generators::nexmark::NexmarkConfig;
/// let c = apply_params("nexmark", NexmarkConfig::default(), &[("event_rate".into(), "500".into())]).unwrap();
/// assert_eq!(c.event_rate, 500);
/// let e = apply_params("nexmark", NexmarkConfig::default(), &[("speed".into(), "1".into())]).unwrap_err();
/// assert!(e.to_string().starts_with("unknown parameter `speed` for `nexmark`; known: event_rate, "));
/// ```
pub fn apply_params<C: Serialize + DeserializeOwned>(
    generator: &str,
    config: C,
    params: &[(String, String)],
) -> Result<C, GeneratorError> {
    let invalid = |field: &str, found: String| GeneratorError::InvalidParameter {
        field: field.to_string(),
        expected: "a value of the parameter's type".into(),
        found,
    };
    let mut json = serde_json::to_value(config).map_err(|e| invalid("(config)", e.to_string()))?;
    let Some(object) = json.as_object_mut() else {
        return Err(invalid("(config)", "not a struct".into()));
    };
    for (name, value) in params {
        // The reference documents' spellings of renamed fields.
        let name = &match name.as_str() {
            "start_time" if object.contains_key("start_time_ms") => "start_time_ms".to_string(),
            _ => name.clone(),
        };
        if !object.contains_key(name) {
            let known: Vec<&str> = object.keys().map(String::as_str).collect();
            return Err(GeneratorError::UnknownParameter {
                generator: generator.to_string(),
                name: name.clone(),
                known: known.join(", "),
            });
        }
        let parsed = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.clone()));
        object.insert(name.clone(), parsed);
    }
    serde_json::from_value(json).map_err(|e| {
        let field = params
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        invalid(&field, e.to_string())
    })
}
