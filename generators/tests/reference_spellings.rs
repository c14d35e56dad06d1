//! The reference documents' spellings are accepted beside ours: ISO `start_time`
//! strings, workflow state `metadata`, `exactly_once`-style delivery values, the
//! `IoTTelemetry*` and `SCD2FileDrop*` names and the retail table `order`.

use tidewater_engine::config::DeliveryGuarantee;
use tidewater_generators::clickstream::ClickstreamConfig;
use tidewater_generators::core::apply_params;
use tidewater_generators::financial::FinancialStreamConfig;
use tidewater_generators::iot::{IoTTelemetryConfig, IoTTelemetrySimulator};
use tidewater_generators::oplogs::OperationalLogConfig;
use tidewater_generators::retail::{RetailDomain, Scale};
use tidewater_generators::scd2::SCD2FileDropConfig;
use tidewater_generators::streamer::{AnomalyRegistry, TableStream};
use tidewater_generators::workflow::{StateDefinition, WorkflowConfig};

const JAN_1_2024: i64 = 1_704_067_200_000;

#[test]
fn start_time_takes_iso_strings_or_milliseconds() {
    let table = [
        ("2024-01-01T00:00:00", JAN_1_2024),
        ("2024-01-01T00:00:00Z", JAN_1_2024),
        ("2024-01-01T02:00:00+02:00", JAN_1_2024),
        ("2024-01-01", JAN_1_2024),
        ("1704067200000", JAN_1_2024),
    ];
    for (text, ms) in table {
        let params = [("start_time".to_string(), text.to_string())];
        let iot = apply_params("iot", IoTTelemetryConfig::default(), &params).unwrap();
        assert_eq!(iot.start_time_ms, ms, "{text}");
        let logs = apply_params("oplogs", OperationalLogConfig::default(), &params).unwrap();
        assert_eq!(logs.start_time_ms, ms, "{text}");
    }
    let financial: FinancialStreamConfig =
        serde_json::from_str(r#"{"start_time": "2024-01-01T00:00:00"}"#).unwrap();
    assert_eq!(financial.start_time_ms, JAN_1_2024);
    let clicks: ClickstreamConfig = serde_json::from_str(r#"{"start_time_ms": 5}"#).unwrap();
    assert_eq!(clicks.start_time_ms, 5);
    let bad = serde_json::from_str::<WorkflowConfig>(r#"{"start_time": "noon"}"#).unwrap_err();
    assert!(
        bad.to_string().starts_with(
            "invalid value: string \"noon\", expected epoch milliseconds or an ISO 8601 time"
        ),
        "{bad}"
    );
}

#[test]
fn workflow_states_carry_metadata() {
    let state: StateDefinition = serde_json::from_str(
        r#"{"name": "approved", "is_terminal": true, "metadata": {"sla_hours": 24, "owner": "ops"}}"#,
    )
    .unwrap();
    assert_eq!(state.metadata["sla_hours"], 24);
    assert_eq!(state.metadata["owner"], "ops");
}

#[test]
fn delivery_guarantees_take_every_spelling() {
    for text in ["exactly-once", "exactly_once", "EXACTLY_ONCE"] {
        let json: DeliveryGuarantee = serde_json::from_str(&format!("\"{text}\"")).unwrap();
        assert_eq!(json, DeliveryGuarantee::ExactlyOnce);
        assert_eq!(
            text.parse::<DeliveryGuarantee>().unwrap(),
            DeliveryGuarantee::ExactlyOnce
        );
    }
    let at_least: DeliveryGuarantee = serde_json::from_str("\"AT_LEAST_ONCE\"").unwrap();
    assert_eq!(at_least, DeliveryGuarantee::AtLeastOnce);
}

#[test]
fn reference_names_and_the_singular_retail_tables() {
    let _config: SCD2FileDropConfig = Default::default();
    let simulator = IoTTelemetrySimulator::new(IoTTelemetryConfig {
        fleet_size: 3,
        ..Default::default()
    });
    assert!(simulator.is_ok());
    let tables = RetailDomain::new(Scale::Small, 42).generate();
    assert_eq!(
        tables.table("order").map(<[_]>::len),
        tables.table("orders").map(<[_]>::len)
    );
    let stream = TableStream::new(&tables, "order", None, AnomalyRegistry::new(), 42).unwrap();
    assert_eq!(stream.table(), "order");
}
