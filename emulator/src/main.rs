//! The `cos-emulator` command line.
fn main() {}
