// rusty: synthetic Rust module
fn probe() {}
