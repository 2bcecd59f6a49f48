mod index_fake;
mod index_real;
mod support;
mod support_smoke;
