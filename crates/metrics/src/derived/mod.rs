//! Metrics built from other metrics, in one place of their own: each asks the engines
//! for the metrics it is made of (never the dispatcher, so no arrow points back up) and
//! combines their cells. Station advice, cost per use, minutes at capacity per week and
//! the trends over past totals are catalogue metrics; the survey's lines and the peers
//! comparison are commands of their own (`tally survey`, `tally peers`).

pub mod capacity;
pub mod cost;
pub mod cumulative;
pub mod peers;
pub mod stations;
pub mod survey;
pub mod trends;

use tally_lake::Snapshot;
use tally_model::Sites;

use crate::base::grid::for_request;
use crate::base::request::{MetricError, Output, Request};
use crate::catalogue::Engine;
use crate::engines::dims_of;

/// The table of a derived metric, without the columns the dispatcher adds.
pub(crate) fn answer(lake: &Snapshot, sites: &Sites, req: &Request) -> Result<Output, MetricError> {
    if let Some(out) = crate::answers::answer(req) {
        return out;
    }
    let grid = for_request(req, sites);
    let dims = dims_of(req);
    let m = req.metric;
    match m.engine() {
        Engine::Trend => trends::trend(lake, sites, m, req, &grid, &dims),
        Engine::StationAdvice => stations::station_advice(lake, sites, req),
        Engine::CostPerUse => cost::cost_per_use(lake, sites, req, &grid, &dims),
        Engine::CapacityPerWeek => capacity::capacity_per_week(lake, sites, &grid, &dims),
        Engine::Cumulative => cumulative::cumulative(lake, sites, req),
        _ => unreachable!("{} is answered by an engine (engines/)", m.name()),
    }
}
