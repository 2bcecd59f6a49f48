//! Test support: a real registry process and a pusher to seed it.
#![allow(dead_code)]

pub mod cli;
pub mod fake_registry;
pub mod fixtures;
pub mod registry;
pub mod seed;
pub mod specs;
