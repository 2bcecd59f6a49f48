//! acr-index: index a container registry's image labels and annotations
//! into SQLite. Data flows one way: registry -> indexer -> store; the
//! query commands read only the store.

pub mod answers;
pub mod cli;
pub mod commands;
pub mod config;
pub mod credentials;
pub mod help;
pub mod indexer;
pub mod logging;
pub mod metrics;
pub mod oci;
pub mod output;
pub mod provenance;
pub mod registry;
pub mod serve;
pub mod store;
