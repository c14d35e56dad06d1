//! IoT telemetry: determinism, rates, storms and battery.

use super::*;
use crate::core::pinned::assert_first_pinned;

fn run(config: IotTelemetryConfig) -> IotTelemetryResult {
    IotTelemetrySimulator::new(config).unwrap().run()
}

#[test]
fn the_same_seed_gives_the_same_readings() {
    let small = || IotTelemetryConfig {
        fleet_size: 10,
        duration_hours: 2.0,
        ..Default::default()
    };
    assert_eq!(run(small()), run(small()));
    assert_ne!(
        run(small()).readings,
        run(IotTelemetryConfig { seed: 3, ..small() }).readings
    );
}

#[test]
fn the_first_readings_of_seed_42_are_pinned() {
    let result = run(IotTelemetryConfig {
        fleet_size: 3,
        duration_hours: 1.0,
        ..Default::default()
    });
    assert_first_pinned(&result.readings, 3, include_str!("iot_seed42.jsonl"));
}

#[test]
fn observed_rates_match_the_configured_ones() {
    let config = IotTelemetryConfig {
        fleet_size: 500,
        alert_storm_probability: 0.2,
        ..Default::default()
    };
    let result = run(config);
    let s = &result.stats;
    assert_eq!(s.readings, 500 * 1_440);
    assert!((s.missing_rate - 0.05).abs() < 0.003, "{}", s.missing_rate);
    assert!(
        (s.drifting_devices as f64 / 500.0 - 0.1).abs() < 0.04,
        "{}",
        s.drifting_devices
    );
    // Storm minutes see 10x the alert rate.
    let storm_minutes = s.storms as f64 * 15.0;
    assert!(s.storms > 0);
    let normal_rate = (s.alerts - s.storm_alerts) as f64 / (500.0 * (1_440.0 - storm_minutes));
    let storm_rate = s.storm_alerts as f64 / (500.0 * storm_minutes);
    assert!((normal_rate - 0.002).abs() < 0.0005, "{normal_rate}");
    assert!(
        storm_rate > 5.0 * normal_rate,
        "{storm_rate} vs {normal_rate}"
    );
}

#[test]
fn batteries_drain_at_the_configured_rate() {
    let result = run(IotTelemetryConfig {
        fleet_size: 20,
        battery_drain_rate: 2.0,
        ..Default::default()
    });
    for device in &result.fleet_status {
        let first = result
            .readings
            .iter()
            .find(|r| r.device_id == device.device_id)
            .unwrap();
        let drained = first.battery_level - device.battery_level;
        // about 24 h x 2 % per hour between the first and the last reading
        assert!((drained - 48.0).abs() < 0.1, "{drained}");
    }
}

#[test]
fn invalid_configs_name_each_field() {
    let config = IotTelemetryConfig {
        missing_probability: 2.0,
        reading_interval_seconds: 0.0,
        ..Default::default()
    };
    let problems: Vec<String> = IotTelemetrySimulator::new(config)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        problems,
        vec![
            "`missing_probability`: expected a probability in [0, 1], found 2",
            "`reading_interval_seconds`: expected a number > 0, found 0",
        ]
    );
}

/// 20 devices, a reading a minute for 10 hours, value 20 + device number.
fn supplied() -> Vec<tidewater_engine::row::Row> {
    use tidewater_engine::row::{Row, Value};
    (0..20i64)
        .flat_map(|d| {
            (0..600i64).map(move |k| {
                Row::from_pairs([
                    ("sensor_id", Value::from(format!("s{d:02}"))),
                    ("value", Value::Float(20.0 + d as f64)),
                    ("created_at", Value::Int(1_704_067_200_000 + k * 60_000)),
                ])
            })
        })
        .collect()
}

#[test]
fn anomalies_are_layered_on_supplied_readings() {
    use tidewater_engine::row::{Row, Value};
    let config = IotTelemetryConfig {
        drift_probability: 0.5,
        missing_probability: 0.05,
        alert_storm_probability: 0.5,
        ..Default::default()
    };
    let devices = [Row::from_pairs([
        ("device_id", Value::from("s03")),
        ("battery_level", Value::Float(50.0)),
    ])];
    let result = IotTelemetrySimulator::on_table(config.clone(), &supplied(), Some(&devices))
        .unwrap()
        .run();
    assert_eq!(result.stats.readings, 12_000);
    assert_eq!(result.fleet_status.len(), 20);
    // Missing readings at about the configured rate; the others are the supplied value
    // plus the device's drift at that moment.
    assert!(
        (480..720).contains(&result.stats.missing),
        "{:?}",
        result.stats
    );
    for r in &result.readings {
        let d: f64 = r.device_id[1..].parse().unwrap();
        if let Some(v) = r.value {
            assert!((v - (20.0 + d + r.drift)).abs() < 1e-9, "{r:?}");
        }
    }
    assert!(result.stats.drifting_devices > 3, "{:?}", result.stats);
    assert!(
        result.stats.storms > 0 && result.stats.storm_alerts > 0,
        "{:?}",
        result.stats
    );
    // The devices table sets s03's starting battery; drain runs from its first reading.
    let s03 = result
        .fleet_status
        .iter()
        .find(|d| d.device_id == "s03")
        .unwrap();
    let drained = 50.0 - config.battery_drain_rate * (599.0 / 60.0);
    assert!(
        (s03.battery_level - drained.max(0.0)).abs() < 1e-9,
        "{s03:?}"
    );
    let again = IotTelemetrySimulator::on_table(config, &supplied(), Some(&devices))
        .unwrap()
        .run();
    assert_eq!(again, result);
    // Rows that cannot be read are named.
    let bad = [Row::from_pairs([
        ("device_id", Value::Int(1)),
        ("value", Value::from("hot")),
    ])];
    let e = IotTelemetrySimulator::on_table(IotTelemetryConfig::default(), &bad, None).unwrap_err();
    let messages: Vec<String> = e.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        messages,
        [
            "`readings[0].value`: expected a number, found \"hot\"",
            "`readings[0].reading_time`: expected epoch ms or an ISO 8601 time in reading_time or created_at, found null",
        ]
    );
}
