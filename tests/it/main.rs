//! The one integration test binary (`autotests = false`). Every module
//! runs the built binary through `support::cli::Env` or drives the
//! library against real or fake registries.

// The answers of the read commands on a fixture database built with the
// store's write half (`answers_fixture`): query, show, export, running, runs.
mod answers_export;
mod answers_fixture;
mod answers_query;
mod answers_running;
mod answers_runs;
mod answers_show;
// Credentials: ACR token flows (fake ACR), Entra ID / workload and managed
// identity, docker config and helpers, the auth facade over the test Env,
// basic and token auth against the real registry, secrets kept out of
// output, TLS with a private CA.
mod auth_acr;
mod auth_azure;
mod auth_docker;
mod auth_env;
mod auth_real_registry;
mod auth_secrets;
mod auth_tls;
// The command-line contract: usage errors, exit codes, global flags.
mod cli;
// podman auth.json and the Azure CLI as credential sources.
mod cli_credentials;
// docs/commands.md examples checked against the fixture.
mod cli_docs;
// --help headings and examples, version, completions, man page.
mod cli_help;
// index --format json, failures grouped by cause, the shared glob dialect.
mod cli_index;
// --format names, export --output (-, FIFO, mode), JSON fatal events, --pods checks.
mod cli_output;
// Digest prefixes, bare hex, ambiguity, `show repo` = latest.
mod cli_refs;
// Repeated --repo means any, braces, --since/--until as instants.
mod cli_filters;
// A pseudo-terminal: escapes of registry text, --color and NO_COLOR.
mod cli_tty;
// cronjob.yaml and the container image's runtime contract.
mod cronjob;
// Request economy: what cold and warm runs ask of a registry (fake ACR).
mod economy;
// Hostile registries: credentials, secrets, bounds, signals, failures.
mod hostile_auth;
mod hostile_disk;
mod hostile_failures;
mod hostile_signals;
// Indexing against the in-process fake registry: faults, limits, economy.
mod index_fake;
// Indexing against the real CNCF distribution registry.
mod index_real;
// Production behaviour: JSON logs, metrics file, signals, locking.
mod production;
// Provenance from every source, the corpus, migration 0003, bases.
mod provenance_bases;
mod provenance_consistency;
mod provenance_corpus;
mod provenance_migration;
mod provenance_sources;
// serve: the API against the commands, pages in chromium, live runs, deploy.
mod serve_api;
mod serve_deploy;
mod serve_live;
mod serve_pages;
// Referrers: signatures, SBOMs and attestations, in answers, against a
// fake registry (API and tag schemes, faults) and the real registry.
mod referrers_answers;
mod referrers_fake;
mod referrers_real;
// The test support itself: registry launcher, seeder, fakes, the test Env.
mod support;
mod support_smoke;
