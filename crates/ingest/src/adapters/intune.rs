//! Microsoft Intune's device list: the admin center's Devices > All devices > Export
//! (`Device name, OS, OS version, Last check-in, Serial number, Manufacturer, Model,
//! Enrollment date, ...`), or the same devices from Graph's `managedDevice`
//! (`deviceName, operatingSystem, osVersion, lastSyncDateTime, serialNumber, ...`).
//! Times are UTC. Primary user columns are personal data: never stored, masked in the
//! quarantine.

use tally_model::Table;

use crate::IngestError;
use crate::adapters::assets::{Asset, push_directory};
use crate::adapters::directory::{NO_SITE, computer_kind};
use crate::adapters::{Ctx, Input, each_record};
use crate::format::{Detect, FormatSpec, SitePolicy};
use crate::reason::{Code, Reject};

pub static SPEC: FormatSpec = FormatSpec {
    name: "intune",
    table: Table::Assets,
    detect: Detect::Header(|h| {
        h.has("Device name|deviceName")
            && h.has("OS version|osVersion")
            && h.has("Enrollment date|enrolledDateTime|Last check-in|lastSyncDateTime")
    }),
    detected_by: "header has Device name, OS version and Enrollment date or Last check-in (or Graph's deviceName, \
                  osVersion, enrolledDateTime)",
    required: &[
        "Device name|deviceName",
        "OS|operatingSystem",
        "OS version|osVersion",
        "Enrollment date|enrolledDateTime",
    ],
    optional: &[
        "Last check-in|lastSyncDateTime",
        "Serial number|serialNumber",
        "Manufacturer|manufacturer",
        "Model|model",
        "Device category|deviceCategoryDisplayName|Category",
    ],
    safe: &[
        "Device name|deviceName",
        "OS|operatingSystem",
        "OS version|osVersion",
        "Enrollment date|enrolledDateTime",
        "Last check-in|lastSyncDateTime",
        "Serial number|serialNumber",
        "Manufacturer|manufacturer",
        "Model|model",
        "Device category|deviceCategoryDisplayName|Category",
        "Compliance|complianceState",
        "Managed by|managementAgent",
        "Ownership|ownerType",
        // The canonical names the reasons use.
        "asset_tag",
        "site",
        "purchased",
        "last_seen",
    ],
    site_columns: &[],
    site: SitePolicy::Names,
    preamble: &[],
    lookalikes: &[],
    identifiers: false,
    identity: "the device's state: a re-export with the same state is in the lake already; the latest export of a \
               device name wins when read",
    options: &["--site CODE (devices no category or name prefix places)"],
    settings: &[],
    notes: "the admin center's All devices export or Graph managedDevice columns; the site from the device \
            category when it names a site, else the name's prefix before its first -, _ or space, else --site; Enrollment date \
            is the day the device joined (its purchase date when no inventory record matches); Last check-in is last \
            seen; kind from the OS (iOS, iPadOS, Android: tablet; ChromeOS: laptop), model and name, else staff PC",
    read,
};

/// A UTC time as Intune writes it (`2026-05-28 16:15:12.0000000`, `2026-05-28T16:15:12Z`,
/// `5/28/2026 4:15:12 PM`) as the library's local day.
fn utc_day(text: &str, tz: chrono_tz::Tz) -> Option<chrono::NaiveDate> {
    let t = text.trim().trim_end_matches('Z');
    let at = crate::time::parse_local(t)
        .or_else(|| crate::time::parse_local(t.split('.').next().unwrap_or(t)))?;
    Some(at.and_utc().with_timezone(&tz).date_naive())
}

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(input, ctx, |rec, cols, ctx| {
        let get = |i: usize| cols.text(rec, i);
        let name = get(0)?;
        let os = get(1)?;
        let enrolled = get(3)?;
        let tz = ctx.library_tz();
        let enrolled_day = utc_day(enrolled, tz).ok_or_else(|| {
            Reject::new(Code::BadTime, "purchased", "Enrollment date is not a date").got(enrolled)
        })?;
        let seen = get(4)?;
        let last_seen = match seen {
            "" => None,
            s => Some(utc_day(s, tz).ok_or_else(|| {
                Reject::new(Code::BadTime, "last_seen", "Last check-in is not a date").got(s)
            })?),
        };
        let category = get(8)?;
        let site = ctx.named_site(&[category], &[name], NO_SITE)?;
        let model = get(7)?;
        let purchased = enrolled_day.to_string();
        let words = format!("{category} {name} {model}");
        push_directory(
            ctx,
            &Asset {
                tag: name,
                kind: computer_kind(&words, os),
                site: &site,
                model,
                purchased: &purchased,
                status: "active",
                name,
                serial: get(5)?,
                manufacturer: get(6)?,
                os,
                os_version: get(2)?,
                last_seen,
                ..Asset::default()
            },
        )
    })
}
