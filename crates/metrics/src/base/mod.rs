//! The bottom layer: what every engine and derived metric stands on. Loads through a
//! lake snapshot, the bucket grid, opening hours, what the data spans and how much of a
//! bucket a figure covers, frames and their layout, the fleet's devices, the OS support
//! cycles, the distinct counts a purge kept, sites sites.toml does not know, and the
//! request and its answer. Nothing here calls up into engines/, derived/ or the
//! dispatcher.

pub mod calendar;
pub mod expr;
pub mod frame;
pub mod grid;
pub mod inventory;
pub mod load;
pub mod request;
pub mod retention;
pub mod sites;
pub mod span;
pub mod support;
