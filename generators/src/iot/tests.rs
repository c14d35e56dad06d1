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
