//! Test support: a real registry process and a pusher to seed it.
#![allow(dead_code)]

pub mod fake_acr;
pub mod fake_acr_login;
pub mod fake_acr_routes;
pub mod fake_acr_tokens;
pub mod fixtures;
pub mod registry;
pub mod seed;
pub mod specs;
