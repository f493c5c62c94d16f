//! Active Directory's computers, as PowerShell exports them:
//! `Get-ADComputer -Filter * -Properties OperatingSystem,OperatingSystemVersion,
//! LastLogonDate,lastLogonTimestamp,whenCreated,Enabled | Export-Csv computers.csv`.
//! Windows PowerShell writes a `#TYPE` line above the header (the reader skips it) and
//! quotes every field; dates are written in the exporting machine's culture
//! (`5/28/2026 4:15:00 PM`), `lastLogonTimestamp` as a FILETIME number.

use tally_model::Table;

use crate::IngestError;
use crate::adapters::assets::{Asset, push_directory};
use crate::adapters::shared::date;
use crate::adapters::directory::{NO_SITE, computer_kind, filetime_date, later};
use crate::adapters::{Ctx, Input, each_record};
use crate::format::{Detect, FormatSpec, SitePolicy};
use crate::reason::{Code, Reject};

pub static SPEC: FormatSpec = FormatSpec {
    name: "ad-computers",
    table: Table::Assets,
    detect: Detect::Header(|h| {
        h.has("DistinguishedName") && h.has("Name") && h.has("OperatingSystem|SamAccountName")
    }),
    detected_by: "header has DistinguishedName, Name and OperatingSystem or SamAccountName",
    required: &["Name", "DistinguishedName", "whenCreated|Created"],
    optional: &[
        "OperatingSystem",
        "OperatingSystemVersion",
        "LastLogonDate",
        "lastLogonTimestamp",
        "Enabled",
        "Description",
        "serialNumber",
    ],
    safe: &[
        "Name",
        "DistinguishedName",
        "DNSHostName",
        "whenCreated|Created",
        "OperatingSystem",
        "OperatingSystemVersion",
        "LastLogonDate",
        "lastLogonTimestamp",
        "Enabled",
        "ObjectClass",
        "SamAccountName",
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
    identity: "the computer's state: a re-export with the same state is in the lake already; the latest export of a \
               computer name wins when read",
    options: &["--site CODE (computers no OU or name prefix places)"],
    settings: &[],
    notes: "Get-ADComputer | Export-Csv, Windows PowerShell (#TYPE line) or PowerShell 7; the site from an OU of \
            DistinguishedName that names a site (code, name or alias), else the name's prefix before its first -, _ or space, \
            else --site; whenCreated is the day the device joined (its purchase date when no inventory record \
            matches); last seen is the later of LastLogonDate and lastLogonTimestamp (FILETIME); Enabled False is \
            retired; kind from the OU path and name (Public/PUB: public PC; Server OS: server; laptop models), else \
            staff PC",
    read,
};

fn read(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> Result<(), IngestError> {
    each_record(input, ctx, |rec, cols, ctx| {
        let get = |i: usize| cols.text(rec, i);
        let name = get(0)?;
        let dn = get(1)?;
        let created = get(2)?;
        if created.is_empty() {
            return Err(Reject::new(
                Code::MissingValue,
                "purchased",
                "whenCreated is empty: export it (-Properties whenCreated)",
            ));
        }
        let os = get(3)?;
        let logon = get(5)?;
        let logon_date = match logon {
            "" => None,
            s => Some(date(s).ok_or_else(|| {
                Reject::new(Code::BadTime, "last_seen", "LastLogonDate is not a date").got(s)
            })?),
        };
        let stamp = get(6)?;
        let stamp_date = filetime_date(stamp, ctx.library_tz()).map_err(|()| {
            Reject::new(
                Code::BadNumber,
                "last_seen",
                "lastLogonTimestamp is not a FILETIME number",
            )
            .got(stamp)
        })?;
        let status = match get(7)?.to_ascii_lowercase().as_str() {
            "" | "true" => "active",
            "false" => "retired",
            other => {
                return Err(Reject::new(
                    Code::UnknownValue,
                    "Enabled",
                    "Enabled: expected True or False",
                )
                .got(other));
            }
        };
        // The OUs, nearest first: CN=MAD-PUB-01,OU=Public,OU=MAD,OU=Branches,DC=lib,DC=org.
        let ous: Vec<&str> = dn
            .split(',')
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim().eq_ignore_ascii_case("OU").then_some(v.trim())
            })
            .collect();
        let site = ctx.named_site(&ous, &[name], NO_SITE)?;
        let words = format!("{} {name} {}", ous.join(" "), get(8)?);
        push_directory(
            ctx,
            &Asset {
                tag: name,
                kind: computer_kind(&words, os),
                site: &site,
                purchased: created,
                status,
                name,
                serial: get(9)?,
                os,
                os_version: get(4)?,
                last_seen: later(logon_date, stamp_date),
                ..Asset::default()
            },
        )
    })
}
