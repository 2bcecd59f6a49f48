mod auth_acr;
mod auth_azure;
mod auth_docker;
mod auth_env;
mod auth_real_registry;
mod auth_tls;
mod support;
mod support_smoke;
