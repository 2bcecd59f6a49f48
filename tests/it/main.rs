mod answers_export;
mod answers_fixture;
mod answers_query;
mod answers_running;
mod answers_runs;
mod answers_show;
