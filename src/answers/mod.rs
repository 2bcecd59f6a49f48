//! The answers the read commands and `serve` give, as values: pure
//! functions from the read-only store (and their inputs) to the structs
//! that `--format json` prints and the HTTP API returns. One code path:
//! commands only parse flags, call these and render; nothing here writes
//! to stdout or knows about flags or HTTP.

pub mod bases;
pub mod image;
pub mod images;
pub mod reference;
pub mod referrers;
pub mod running;
pub mod runs;
