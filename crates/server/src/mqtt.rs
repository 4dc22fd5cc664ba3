//! Process parameters from equipment over MQTT: one MQTT 5 subscriber on `suyuan/+/+/+/+/params` (QoS 1,
//! manual acknowledgement, a receive window of thousands so acknowledging after storing does not throttle
//! the broker to its default of 20 messages in flight), batching messages for a few milliseconds and recording each station's readings as one
//! event through the engine; a message is acknowledged to the broker only once its readings are stored (or
//! once it was found unreadable, which is logged and counted). The subscriber reconnects with back-off and
//! subscribes again on every connection; `/readyz` and the metrics say whether it is connected.

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, Publish};
use rumqttc::v5::{AsyncClient, Event, EventLoop, MqttOptions};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use suyuan_engine::Engine;
use suyuan_engine::operations::OpsError;
use suyuan_ops::params::{Reading, Source, TOPIC_FILTER, readings, source};

/// How the subscriber is doing.
#[derive(Debug, Default)]
pub struct MqttStatus {
    /// Connected to the broker and subscribed.
    pub connected: AtomicBool,
    /// Messages received.
    pub received: AtomicU64,
    /// Readings stored.
    pub recorded: AtomicU64,
    /// Messages refused (unreadable topic or payload, unknown station).
    pub rejected: AtomicU64,
    /// Connections lost.
    pub disconnects: AtomicU64,
    /// The broker's address (without credentials).
    pub broker: String,
    last_error: std::sync::Mutex<Option<String>>,
}

impl MqttStatus {
    /// One line for `/readyz`.
    pub fn line(&self) -> String {
        if self.connected.load(Ordering::Acquire) {
            format!("mqtt: connected to {}", self.broker)
        } else {
            let why = self
                .last_error
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .unwrap_or_else(|| "connecting".into());
            format!(
                "mqtt: disconnected from {} ({why}); reconnecting",
                self.broker
            )
        }
    }

    fn set_error(&self, e: String) {
        if let Ok(mut g) = self.last_error.lock() {
            *g = Some(e);
        }
    }
}

/// Messages the broker may send before the first is acknowledged.
const RECEIVE_WINDOW: u16 = 10_000;

/// Why the subscriber could not start.
#[derive(Debug, thiserror::Error)]
#[error("MQTT URL '{0}': expected mqtt://[user:password@]host[:port]")]
pub struct BadUrl(String);

/// Broker options from `mqtt://[user:password@]host[:port]`.
pub fn options(url: &str, client_id: &str) -> Result<(MqttOptions, String), BadUrl> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .ok_or_else(|| BadUrl(url.into()))?;
    let rest = rest.trim_end_matches('/');
    let (creds, hostport) = match rest.rsplit_once('@') {
        Some((c, h)) => (Some(c), h),
        None => (None, rest),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| BadUrl(url.into()))?),
        None => (hostport, 1883),
    };
    if host.is_empty() {
        return Err(BadUrl(url.into()));
    }
    let mut o = MqttOptions::new(client_id, host, port);
    o.set_keep_alive(Duration::from_secs(15));
    // The broker keeps the session (and what was not acknowledged) for a day across reconnections.
    o.set_clean_start(false);
    o.set_session_expiry_interval(Some(86_400));
    o.set_manual_acks(true);
    o.set_receive_maximum(Some(RECEIVE_WINDOW));
    o.set_max_packet_size(Some(1 << 20));
    if let Some(c) = creds {
        let (u, p) = c.split_once(':').unwrap_or((c, ""));
        o.set_credentials(u, p);
    }
    Ok((o, format!("{host}:{port}")))
}

/// Starts the subscriber; it runs until `stop` turns true.
pub fn spawn(
    engine: Engine,
    url: &str,
    client_id: &str,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Arc<MqttStatus>, BadUrl> {
    let (opts, broker) = options(url, client_id)?;
    let status = Arc::new(MqttStatus {
        broker,
        ..MqttStatus::default()
    });
    let (client, events) = AsyncClient::new(opts, 10_000);
    // Unbounded, but never more than the receive window: the broker sends no more until we acknowledge.
    // (A bounded channel here deadlocks: the poll loop waits for room while the recorder waits for the
    // poll loop to take its acknowledgements.)
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Publish>();
    tokio::spawn(poll(
        client.clone(),
        events,
        tx,
        status.clone(),
        stop.clone(),
    ));
    tokio::spawn(record(engine, client, rx, status.clone()));
    Ok(status)
}

async fn poll(
    client: AsyncClient,
    mut events: EventLoop,
    tx: tokio::sync::mpsc::UnboundedSender<Publish>,
    status: Arc<MqttStatus>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let next = tokio::select! {
            _ = stop.changed() => {
                let _ = client.disconnect().await;
                return;
            }
            n = events.poll() => n,
        };
        match next {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = Duration::from_millis(200);
                // Subscribe on every connection: a broker that restarted may have lost the session.
                if let Err(e) = client.subscribe(TOPIC_FILTER, QoS::AtLeastOnce).await {
                    status.set_error(e.to_string());
                }
            }
            Ok(Event::Incoming(Packet::SubAck(_))) => {
                status.connected.store(true, Ordering::Release);
                metrics::gauge!("suyuan_mqtt_connected").set(1.0);
                tracing::info!(broker = %status.broker, "MQTT subscribed to {TOPIC_FILTER}");
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                status.received.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("suyuan_mqtt_messages_total").increment(1);
                if tx.send(p).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                if status.connected.swap(false, Ordering::AcqRel) {
                    status.disconnects.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("suyuan_mqtt_disconnects_total").increment(1);
                    tracing::warn!(broker = %status.broker, error = %e, "MQTT connection lost; reconnecting");
                }
                metrics::gauge!("suyuan_mqtt_connected").set(0.0);
                status.set_error(e.to_string());
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Most messages stored in one round.
const BATCH: usize = 5_000;
/// How long a round waits for more messages.
const LINGER: Duration = Duration::from_millis(20);

/// The readings of one topic in a round, and the messages that brought them.
struct Group {
    source: Source,
    readings: Vec<Reading>,
    publishes: Vec<Publish>,
}

async fn record(
    engine: Engine,
    client: AsyncClient,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Publish>,
    status: Arc<MqttStatus>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + LINGER;
        while batch.len() < BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(p)) => batch.push(p),
                _ => break,
            }
        }
        // One event per station and piece of equipment (the topic names them).
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        for p in batch {
            let topic = String::from_utf8_lossy(&p.topic).into_owned();
            let parsed = source(&topic).map_err(|e| e.to_string()).and_then(|s| {
                readings(&p.payload)
                    .map(|r| (s, r))
                    .map_err(|e| e.to_string())
            });
            match parsed {
                Ok((s, r)) => {
                    let g = groups.entry(topic).or_insert_with(|| Group {
                        source: s,
                        readings: Vec::new(),
                        publishes: Vec::new(),
                    });
                    g.readings.extend(r);
                    g.publishes.push(p);
                }
                Err(why) => {
                    reject(&status, &topic, &why);
                    let _ = client.ack(&p).await;
                }
            }
        }
        for (
            _,
            Group {
                source: src,
                readings,
                publishes,
            },
        ) in groups
        {
            let mut tries = 0;
            loop {
                match engine.record_parameters(&src, &readings).await {
                    Ok(_) => {
                        status
                            .recorded
                            .fetch_add(readings.len() as u64, Ordering::Relaxed);
                        break;
                    }
                    Err(
                        e @ (OpsError::NotFound(_) | OpsError::Invalid(_) | OpsError::Refused(_)),
                    ) => {
                        reject(
                            &status,
                            &format!(
                                "suyuan/{}/{}/{}/{}/params",
                                src.site, src.line, src.station, src.equipment
                            ),
                            &e.to_string(),
                        );
                        break;
                    }
                    Err(e) => {
                        tries += 1;
                        tracing::error!(error = %e, tries, "storing MQTT readings failed; retrying");
                        if tries >= 5 {
                            // Not acknowledged: the broker delivers them again after a reconnect.
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                        continue;
                    }
                }
            }
            if tries < 5 {
                for p in &publishes {
                    let _ = client.ack(p).await;
                }
            }
        }
    }
}

fn reject(status: &MqttStatus, topic: &str, why: &str) {
    status.rejected.fetch_add(1, Ordering::Relaxed);
    metrics::counter!("suyuan_mqtt_rejected_total").increment(1);
    tracing::warn!(topic, reason = why, "MQTT message refused");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_or_refused() {
        let (_, b) = options("mqtt://u:p@127.0.0.1:1884", "t").expect("url");
        assert_eq!(b, "127.0.0.1:1884");
        assert_eq!(options("mqtt://broker", "t").expect("url").1, "broker:1883");
        assert!(options("http://x", "t").is_err());
        assert!(options("mqtt://:1883", "t").is_err());
        assert!(options("mqtt://h:port", "t").is_err());
    }
}
