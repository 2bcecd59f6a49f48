mod auth_acr;
mod auth_env;
mod support;
mod support_smoke;
