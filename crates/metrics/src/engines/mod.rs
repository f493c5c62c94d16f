//! The engines: one per way of counting, each answering the metrics the catalogue gives
//! it ([`crate::catalogue::Engine`]). They read the lake through base/ and never call the
//! dispatcher; metrics built from other metrics are derived/'s.

pub mod backlog;
pub mod devices;
pub mod events;
pub mod fleet;
pub mod intervals;
pub mod sweep;

use tally_lake::Snapshot;
use tally_model::Sites;

use crate::base::grid::for_request;
use crate::base::request::{MetricError, Output, Request};
use crate::catalogue::{Dim, Engine};

/// A request's dimensions in the catalogue's order, each once: the columns of its table.
pub(crate) fn dims_of(req: &Request) -> Vec<Dim> {
    let mut dims = req.by.clone();
    dims.sort();
    dims.dedup();
    dims
}

/// The table of a metric an engine answers (not a derived one), without the columns the
/// dispatcher adds (partial buckets) and without its checks of the request.
pub(crate) fn answer(lake: &Snapshot, sites: &Sites, req: &Request) -> Result<Output, MetricError> {
    if let Some(out) = crate::answers::answer(req) {
        return out;
    }
    let grid = for_request(req, sites);
    let dims = dims_of(req);
    let m = req.metric;
    match m.engine() {
        Engine::Events => events::event_metric(lake, sites, m, &grid, &dims),
        Engine::Interval => intervals::intervals(lake, sites, m, &grid, &dims),
        Engine::Backlog => backlog::backlog(lake, sites, &grid, &dims),
        Engine::Replacement => fleet::replacement(lake, sites, m, &grid, &dims),
        Engine::PublicComputers => fleet::public_computers(sites, &grid, &dims),
        Engine::Assets => fleet::assets_in_service(lake, sites, &grid, &dims),
        Engine::OsSupport => devices::os_support(lake, sites, &grid, &dims),
        Engine::StaleDevices => devices::stale_devices(lake, sites, &grid, &dims),
        Engine::ReplacementPlan => devices::replacement_plan(lake, sites, &grid, &dims, req.budget),
        Engine::Trend
        | Engine::StationAdvice
        | Engine::CostPerUse
        | Engine::CapacityPerWeek
        | Engine::Cumulative => {
            unreachable!("{} is derived from other metrics (derived/)", m.name())
        }
    }
}
