//! Test support: a real registry process, a pusher to seed it, in-process
//! fakes of a registry and of ACR, and a hermetic runner for the binary.
#![allow(dead_code)]

pub mod cli;
pub mod fake_acr;
pub mod fake_acr_economy;
pub mod fake_acr_economy_api;
pub mod fake_acr_economy_routes;
pub mod fake_acr_front_end;
pub mod fake_acr_login;
pub mod fake_acr_routes;
pub mod fake_acr_tokens;
pub mod fake_hostile;
pub mod fake_referrers;
pub mod fake_registry;
pub mod fixtures;
pub mod layout;
pub mod registry;
pub mod seed;
pub mod serve;
pub mod specs;
pub mod webdriver;
