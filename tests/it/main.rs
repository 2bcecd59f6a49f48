mod cli;
mod index_fake;
mod index_real;
mod production;
mod support;
mod support_smoke;
