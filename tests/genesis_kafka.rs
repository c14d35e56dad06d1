//! The Genesis Kafka generator against the test broker: every row arrives as a JSON
//! message with the metadata fields, keyed by the key column, batches numbered.
#![cfg(feature = "kafka")]

use std::collections::BTreeMap;

use tidewater::connectors::kafka::test_broker::TestBroker;
use tidewater::genesis::{
    Conditions, FittedGenerator, KafkaGeneratorConfig, KafkaStreamingGenerator, Method,
};
use tidewater::prelude::*;

fn fitted() -> FittedGenerator {
    let training: Vec<Row> = (0..600)
        .map(|i| {
            Row::from_pairs([
                ("customer_id", Value::from(format!("C{:04}", i % 50))),
                ("age", Value::Int(18 + i % 60)),
                (
                    "income",
                    Value::Float(20_000.0 + 750.0 * (i % 60) as f64 + (i % 7) as f64),
                ),
                ("region", Value::from(["West", "East"][(i % 2) as usize])),
            ])
        })
        .collect();
    FittedGenerator::fit(&training, Method::GaussianCopula)
        .unwrap()
        .with_seed(5)
}

#[test]
fn rows_arrive_as_json_messages_keyed_by_the_key_column() {
    let broker = TestBroker::shared().unwrap();
    broker.create_topic("genesis-rows", 3).unwrap();
    let config = KafkaGeneratorConfig::new(broker.bootstrap(), "genesis-rows")
        .batch_size(100)
        .key_column("customer_id")
        .producer("linger_ms", 5)
        .producer("acks", "all");
    let mut generator = KafkaStreamingGenerator::new(fitted(), config).unwrap();
    let stats = generator.start_streaming(None, Some(1_050)).unwrap();
    assert_eq!((stats.total_samples, stats.total_batches), (1_050, 11));

    let records = broker.read_committed("genesis-rows").unwrap();
    assert_eq!(records.len(), 1_050);
    let expected = fitted().sample(1_050);
    let mut by_batch: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen = Vec::new();
    for record in &records {
        let value: serde_json::Value =
            serde_json::from_slice(record.value.as_ref().unwrap()).unwrap();
        let key = String::from_utf8(record.key.clone().unwrap()).unwrap();
        assert_eq!(value["customer_id"], key.as_str());
        assert!(
            chrono::DateTime::parse_from_rfc3339(value["_generated_at"].as_str().unwrap()).is_ok()
        );
        *by_batch
            .entry(value["_batch_id"].as_str().unwrap().to_string())
            .or_default() += 1;
        let mut fields = value.as_object().unwrap().clone();
        fields.remove("_generated_at");
        fields.remove("_batch_id");
        seen.push(serde_json::Value::Object(fields).to_string());
    }
    let batch_sizes: Vec<(String, usize)> = by_batch.into_iter().collect();
    let mut want: Vec<(String, usize)> = (1..=10).map(|b| (format!("batch-{b:03}"), 100)).collect();
    want.push(("batch-011".into(), 50));
    assert_eq!(batch_sizes, want);
    // The messages are exactly the generator's first 1 050 rows.
    let mut want_rows: Vec<String> = expected
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    seen.sort();
    want_rows.sort();
    assert_eq!(seen, want_rows);
}

#[test]
fn conditions_pacing_and_bad_settings() {
    let broker = TestBroker::shared().unwrap();
    broker.create_topic("genesis-west", 1).unwrap();
    let config = KafkaGeneratorConfig::new(broker.bootstrap(), "genesis-west").batch_size(50);
    let mut generator = KafkaStreamingGenerator::new(fitted(), config)
        .unwrap()
        .with_conditions(Conditions::from_json(r#"{"region": "West", "age": {"lt": 30}}"#).unwrap())
        .unwrap();
    // 400 rows at 2 000 rows/s take at least 0.15 s (the first batch is due at once).
    let stats = generator.start_streaming(Some(2_000.0), Some(400)).unwrap();
    assert_eq!(stats.total_samples, 400);
    assert!(stats.elapsed.as_secs_f64() >= 0.15, "{:?}", stats.elapsed);
    for record in broker.read_committed("genesis-west").unwrap() {
        let value: serde_json::Value =
            serde_json::from_slice(record.value.as_ref().unwrap()).unwrap();
        assert_eq!(value["region"], "West");
        assert!(value["age"].as_i64().unwrap() < 30, "{value}");
        assert!(record.key.is_none());
    }

    let errors = [
        (
            KafkaGeneratorConfig::new(broker.bootstrap(), "t").key_column("planet"),
            "unknown column `planet`; the model's columns are: customer_id, age, income, region",
        ),
        (
            KafkaGeneratorConfig::new(broker.bootstrap(), ""),
            "`topic`: expected a topic name, found nothing",
        ),
        (
            KafkaGeneratorConfig::new(broker.bootstrap(), "t").batch_size(0),
            "`batch_size`: expected at least 1, found 0",
        ),
    ];
    for (config, message) in errors {
        assert_eq!(
            KafkaStreamingGenerator::new(fitted(), config)
                .unwrap_err()
                .to_string(),
            message
        );
    }
    let config = KafkaGeneratorConfig::new(broker.bootstrap(), "t").producer("no_such_setting", 1);
    let err = KafkaStreamingGenerator::new(fitted(), config)
        .unwrap()
        .start_streaming(None, Some(1))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("`producer_config`: expected settings librdkafka accepts, found ")
            && err.contains("no.such.setting"),
        "{err}"
    );
}
