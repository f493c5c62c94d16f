//! Cisco Meraki clients: the API's JSON list (`GET /networks/{id}/clients`) or the
//! dashboard's CSV. One record per device over the span asked for: a connection from
//! firstSeen to lastSeen. MAC addresses are personal data: only their keyed hash is kept.
//! A Meraki network is one site: `--site` names it.

use crate::IngestError;
use crate::adapters::{Ctx, each_record};
use crate::identity::Identity;
use crate::reader::{Columns, CsvInput, Reject};
use crate::rows::Value;
use crate::source::Source;
use crate::time::{local_to_utc_us, parse_local};

pub const CSV_REQUIRED: &[&str] = &["MAC address", "First seen", "Last seen"];
pub const CSV_OPTIONAL: &[&str] = &["SSID", "Usage (kB)", "Sent (kB)", "Received (kB)"];

/// The normalised MAC (lower case, colons) is what is hashed, so one device has one key
/// whatever the export's spelling.
pub fn normalise_mac(mac: &str) -> Option<String> {
    let hex: String = mac
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.len() != 12
        || mac
            .chars()
            .any(|c| !(c.is_ascii_hexdigit() || matches!(c, ':' | '-' | '.')))
    {
        return None;
    }
    Some(
        hex.as_bytes()
            .chunks(2)
            .map(|p| std::str::from_utf8(p).expect("ascii"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

fn site_of(
    ctx: &mut Ctx<'_>,
    site: Option<&str>,
    path: &std::path::Path,
) -> Result<String, IngestError> {
    let site = site.ok_or_else(|| IngestError::Malformed {
        path: path.into(),
        line: 1,
        message: "Meraki clients are listed per network: pass --site CODE for the branch this network serves".into(),
    })?;
    Ok(ctx.site(site).0)
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
    let tz = ctx.tz_override.unwrap_or(ctx.sites.library.timezone);
    parse_local(s).and_then(|l| local_to_utc_us(l, tz).ok())
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
    let mac = normalise_mac(mac).ok_or((
        "mac",
        "not a MAC address: expected 12 hex digits".to_string(),
    ))?;
    if let Some(l) = last
        && l < first
    {
        return Err(("lastSeen", "last seen before first seen".into()));
    }
    let device_key = ctx.pseudo.key_of(&mac);
    // A connection is the device's from its first sighting: a later export of the same
    // span (a later lastSeen) is the same connection.
    let record = format!("{site}\u{1f}{device_key}\u{1f}{first}");
    ctx.emit_row(
        Identity::Record(&record),
        vec![
            Value::Str(site.to_string()),
            Value::Time(first),
            last.map_or(Value::Null, Value::Time),
            Value::Key(device_key),
            Value::text(ssid),
            bytes.map_or(Value::Null, Value::Int),
        ],
        1,
    );
    Ok(())
}

/// The API's JSON: an array of client objects.
pub fn read_json(
    source: &Source,
    ctx: &mut Ctx<'_>,
    site: Option<&str>,
) -> Result<(), IngestError> {
    let site = site_of(ctx, site, &source.path)?;
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
        })
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
        let masked = {
            let mut m = c.clone();
            for k in [
                "mac",
                "ip",
                "ip6",
                "description",
                "user",
                "recentDeviceName",
                "recentDeviceMac",
                "id",
            ] {
                if let Some(v) = m.get_mut(k)
                    && !v.is_null()
                {
                    *v = "***".into();
                }
            }
            m.to_string()
        };
        let result = (|| {
            let mac = c
                .get("mac")
                .and_then(|m| m.as_str())
                .ok_or(("mac", "no mac".to_string()))?;
            let first = c
                .get("firstSeen")
                .and_then(|v| instant(ctx, v))
                .ok_or(("firstSeen", "no readable firstSeen".to_string()))?;
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
        if let Err((column, reason)) = result {
            ctx.tally.quarantine(
                i as u64 + 1,
                column,
                format!("{reason} (record {})", i + 1),
                masked,
            );
        }
    }
}

/// The dashboard's CSV export.
pub fn read_csv(
    input: &mut CsvInput,
    ctx: &mut Ctx<'_>,
    site: Option<&str>,
) -> Result<(), IngestError> {
    let path = input.path.clone();
    let site = site_of(ctx, site, &path)?;
    each_record(
        input,
        ctx,
        "meraki",
        (CSV_REQUIRED, CSV_OPTIONAL),
        &[0],
        |rec, cols: &Columns, ctx| {
            let get = |i: usize| cols.text(rec, i);
            let first = text_instant(ctx, get(1)?).ok_or((
                "First seen",
                format!("unreadable date-time: got \"{}\"", get(1).unwrap_or("")),
            ))?;
            let last = match get(2)? {
                "" => None,
                s => Some(
                    text_instant(ctx, s)
                        .ok_or(("Last seen", format!("unreadable date-time: got \"{s}\"")))?,
                ),
            };
            let kb = |i: usize| {
                get(i)
                    .ok()
                    .and_then(|s| s.replace(',', "").parse::<f64>().ok())
            };
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

#[cfg(test)]
mod tests {
    use super::*;

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
