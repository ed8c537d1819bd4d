//! The `cos-suite` command line.
fn main() {}
