//! Cisco Meraki clients: the API's JSON list (`GET /networks/{id}/clients`) or the
//! dashboard's CSV. One record per device over the span asked for: a connection from
//! firstSeen to lastSeen. MAC addresses are personal data: only their keyed hash is kept.
//! A Meraki network is one site: `--site` names it.

use tally_model::Table;

use crate::IngestError;
use crate::adapters::shared::normalise_mac;
use crate::adapters::{Ctx, Input, each_record};
use crate::format::{Detect, FormatSpec, SitePolicy};
use crate::identity::Identity;
use crate::reason::{Code, Reject, mask_value};
use crate::rows::Cell;
use crate::source::Source;
use crate::time::{local_to_utc_us, parse_local};

pub static SPEC: FormatSpec = FormatSpec {
    name: "meraki",
    table: Table::Wifi,
    detect: Detect::HeaderOrLine(
        |h| h.has("MAC address|mac") && h.has("First seen|firstSeen"),
        |line| line.trim_start().starts_with('['),
    ),
    detected_by: "a JSON array, or a header with MAC address and First seen (the dashboard's CSV; mac and \
                  firstSeen in a CSV made from the API's JSON)",
    required: &["MAC address|mac", "First seen|firstSeen", "Last seen|lastSeen"],
    optional: &[
        "SSID|ssid",
        "Usage (kB)|Usage",
        "Sent (kB)|usage.sent|usage_sent",
        "Received (kB)|usage.recv|usage_recv",
    ],
    safe: &[
        "First seen",
        "Last seen",
        "SSID",
        "Usage (kB)",
        "Sent (kB)",
        "Received (kB)",
        "VLAN",
        "Status",
        "firstSeen",
        "lastSeen",
        "ssid",
        "vlan",
        "status",
        "manufacturer",
        "os",
        "usage",
    ],
    site_columns: &[],
    site: SitePolicy::File("Meraki lists clients per network, one network a branch"),
    preamble: &[],
    lookalikes: &[],
    identifiers: true,
    identity: "the device (its keyed MAC) and its first sighting at the site: a later export of the same span is the same connection",
    options: &["--site CODE", "--tz"],
    settings: &[],
    notes: "one connection per client from firstSeen to lastSeen (epoch seconds or date-times); the MAC address is \
            kept only as a keyed hash; usage sent+recv kB as bytes; --site names the branch of the network",
    read,
};


fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    if input.csv.is_some() {
        read_csv(input, ctx)
    } else {
        read_json(input.source, ctx)
    }
}

/// Epoch seconds, or a date-time in the library's zone.
fn instant(ctx: &Ctx<'_>, v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().map(|s| s * 1_000_000),
        serde_json::Value::String(s) => text_instant(ctx, s),
        _ => None,
    }
}

fn text_instant(ctx: &Ctx<'_>, s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return Some(secs * 1_000_000);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_micros());
    }
    parse_local(s).and_then(|l| local_to_utc_us(l, ctx.library_tz()).ok())
}

fn push(
    ctx: &mut Ctx<'_>,
    site: &str,
    mac: &str,
    first: i64,
    last: Option<i64>,
    ssid: &str,
    bytes: Option<i64>,
) -> Result<(), Reject> {
    let mac = normalise_mac(mac).ok_or_else(|| {
        Reject::new(
            Code::BadIdentifier,
            "mac",
            "not a MAC address: expected 12 hex digits",
        )
    })?;
    if let Some(l) = last
        && l < first
    {
        return Err(Reject::new(
            Code::BadOrder,
            "lastSeen",
            "last seen before first seen",
        ));
    }
    let device_key = ctx.key_of(&mac);
    // A connection is the device's from its first sighting: a later export of the same
    // span (a later lastSeen) is the same connection.
    let first_text = first.to_string();
    let device_text = std::str::from_utf8(device_key.hex()).expect("hex digits");
    let parts = [site, device_text, first_text.as_str()];
    ctx.emit_row(
        Identity::RecordOf(&parts),
        &[
            Cell::Str(site),
            Cell::Time(first),
            Cell::time(last),
            Cell::Key(device_key),
            Cell::text(ssid),
            Cell::int(bytes),
        ],
        1,
    );
    Ok(())
}

/// The API's JSON: an array of client objects.
fn read_json(source: &Source, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let site = ctx.file_site().0;
    // The array is read an element at a time, never whole.
    let reader = std::io::BufReader::with_capacity(1 << 20, source.open()?);
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut i = 0usize;
    let visitor = EachClient(|c: serde_json::Value| {
        client(ctx, &site, i, &c);
        i += 1;
    });
    serde::Deserializer::deserialize_seq(&mut de, visitor)
        .and_then(|()| de.end())
        .map_err(|e| IngestError::Malformed {
            path: source.path.clone(),
            line: e.line() as u64,
            message: format!(
                "not a JSON array of Meraki clients: {e} (column {})",
                e.column()
            ),
        })?;
    ctx.send();
    Ok(())
}

/// Calls the closure with each element of a JSON array.
struct EachClient<F>(F);

impl<'de, F: FnMut(serde_json::Value)> serde::de::Visitor<'de> for EachClient<F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array of client objects")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<serde_json::Value>()? {
            (self.0)(v);
        }
        Ok(())
    }
}

/// One client object of the API's list.
fn client(ctx: &mut Ctx<'_>, site: &str, i: usize, c: &serde_json::Value) {
    {
        ctx.tally.rows_read += 1;
        // Keys whose values are neither a person nor a device name: kept; the rest masked.
        let masked = {
            let mut m = c.clone();
            if let Some(obj) = m.as_object_mut() {
                for (k, v) in obj.iter_mut() {
                    if !SPEC.safe.contains(&k.as_str()) && !v.is_null() {
                        *v = match v {
                            serde_json::Value::String(s) => mask_value(s).into(),
                            serde_json::Value::Number(n) => mask_value(&n.to_string()).into(),
                            _ => "***".into(),
                        };
                    }
                }
            }
            m.to_string()
        };
        let result = (|| {
            let mac = c
                .get("mac")
                .and_then(|m| m.as_str())
                .ok_or_else(|| Reject::new(Code::MissingValue, "mac", "no mac"))?;
            let first = c
                .get("firstSeen")
                .and_then(|v| instant(ctx, v))
                .ok_or_else(|| Reject::new(Code::BadTime, "firstSeen", "no readable firstSeen"))?;
            let last = c.get("lastSeen").and_then(|v| instant(ctx, v));
            let ssid = c.get("ssid").and_then(|v| v.as_str()).unwrap_or("");
            let usage = c.get("usage");
            let kb = |k: &str| usage.and_then(|u| u.get(k)).and_then(|v| v.as_f64());
            let bytes = match (kb("sent"), kb("recv")) {
                (None, None) => None,
                (s, r) => Some(((s.unwrap_or(0.0) + r.unwrap_or(0.0)) * 1024.0).round() as i64),
            };
            push(ctx, site, mac, first, last, ssid, bytes)
        })();
        if let Err(mut reject) = result {
            reject.message = format!("{} (record {})", reject.message, i + 1);
            ctx.reject(i as u64 + 1, reject, masked);
        }
    }
}

/// The dashboard's CSV export.
fn read_csv(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    let site = ctx.file_site().0;
    each_record(
        input,
        ctx,
        |rec, cols, ctx| {
            let get = |i: usize| cols.text(rec, i);
            let first = text_instant(ctx, get(1)?).ok_or_else(|| {
                Reject::new(Code::BadTime, "First seen", "unreadable date-time")
                    .got(get(1).unwrap_or(""))
            })?;
            let last = match get(2)? {
                "" => None,
                s => Some(text_instant(ctx, s).ok_or_else(|| {
                    Reject::new(Code::BadTime, "Last seen", "unreadable date-time").got(s)
                })?),
            };
            let kb = |i: usize| get(i).ok().and_then(kilobytes);
            let bytes = kb(4).or_else(|| match (kb(5), kb(6)) {
                (None, None) => None,
                (s, r) => Some(s.unwrap_or(0.0) + r.unwrap_or(0.0)),
            });
            push(
                ctx,
                &site,
                get(0)?,
                first,
                last,
                get(3)?,
                bytes.map(|k| (k * 1024.0).round() as i64),
            )
        },
    )
}

/// A data volume in kB: a bare number is kB (the API's unit); the dashboard writes units
/// (`1.2 GB`, `345 KB`, `12 MB`, `800 B`).
fn kilobytes(s: &str) -> Option<f64> {
    let t = s.trim().replace(',', "");
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let v: f64 = number.parse().ok()?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "kb" | "kib" => 1.0,
        "b" | "bytes" => 1.0 / 1024.0,
        "mb" | "mib" => 1024.0,
        "gb" | "gib" => 1024.0 * 1024.0,
        "tb" | "tib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(v * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_with_units() {
        assert_eq!(kilobytes("1.5 MB"), Some(1536.0));
        assert_eq!(kilobytes("2,048"), Some(2048.0));
        assert_eq!(kilobytes("1 GB"), Some(1_048_576.0));
        assert_eq!(kilobytes("lots"), None);
    }

    #[test]
    fn macs_normalise() {
        assert_eq!(
            normalise_mac("00:1A:2b:3c:4D:5e").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(
            normalise_mac("00-1a-2b-3c-4d-5e").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(
            normalise_mac("001a.2b3c.4d5e").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(normalise_mac("not a mac"), None);
    }
}
