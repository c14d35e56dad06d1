//! A JSON value read from YAML or JSON that refuses duplicate keys: both parsers keep
//! one of two equal keys silently, so `name: a` followed by `name: b` would pass.

use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A document as a [`Value`], any mapping with a repeated key an error naming the key
/// and the mapping's path (`input`, `transforms[0].window`).
pub(crate) struct StrictValue(pub Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        At(String::new()).deserialize(deserializer).map(StrictValue)
    }
}

/// A value at a path of the document.
struct At(String);

impl At {
    fn child(&self, step: &str) -> At {
        At(if self.0.is_empty() || step.starts_with('[') {
            format!("{}{step}", self.0)
        } else {
            format!("{}.{step}", self.0)
        })
    }
}

impl<'de> DeserializeSeed<'de> for At {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for At {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML or JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(self.child(&format!("[{}]", items.len())))? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                let place = if self.0.is_empty() {
                    "at the top level".to_string()
                } else {
                    format!("in `{}`", self.0)
                };
                return Err(de::Error::custom(format!(
                    "key `{key}` twice {place} (a key may appear once in a mapping)"
                )));
            }
            let value = map.next_value_seed(self.child(&key))?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_refused_in_yaml_and_json_and_values_survive() {
        let yaml = "a: 1\nb: {c: [x, 2.5, true, null]}\na: 2\n";
        let e = serde_norway::from_str::<StrictValue>(yaml)
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("key `a` twice at the top level"), "{e}");
        let json = r#"{"x": [{"z": 0}, {"y": {"w": 1, "w": 2}}]}"#;
        let e = serde_json::from_str::<StrictValue>(json)
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("key `w` twice in `x[1].y`"), "{e}");
        let ok = serde_norway::from_str::<StrictValue>("b: {c: [x, 2.5, true, null], d: -3}\n")
            .unwrap()
            .0;
        assert_eq!(
            ok,
            serde_json::json!({"b": {"c": ["x", 2.5, true, null], "d": -3}})
        );
    }
}
