//! The `tinyattn` command line as a library: the binary is a thin `main` over [`cli::main`], so
//! every command can also be driven from tests.

pub mod bench;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod data;
pub mod device;
pub mod eval;
pub mod inspect;
pub mod plots;
pub mod render;
pub mod run;
pub mod train;
