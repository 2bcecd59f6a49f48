//! Test support: a real registry process and a pusher to seed it.
#![allow(dead_code)]

pub mod fixtures;
pub mod registry;
pub mod seed;
pub mod specs;
