//! Stand-in for `matcher serve` until the binary calls `http::serve`:
//!
//! ```sh
//! cargo run -p matcher-http --example serve -- --data DIR --addr 127.0.0.1:8080 [--keys FILE] [--fixtures DIR] [--config FILE] [--cors-origin ORIGIN]...
//! ```

use std::path::PathBuf;

use matcher_http::http::{serve, ServeConfig};

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut config = ServeConfig {
        addr: "127.0.0.1:8080".parse()?,
        data_dir: PathBuf::from("data"),
        fixtures_dir: matcher_core::fixtures::fixtures_dir(),
        key_file: None,
        cors_origins: Vec::new(),
        match_config: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--data" => config.data_dir = value()?.into(),
            "--addr" => config.addr = value()?.parse()?,
            "--keys" => config.key_file = Some(value()?.into()),
            "--fixtures" => config.fixtures_dir = value()?.into(),
            "--config" => config.match_config = Some(value()?.into()),
            "--cors-origin" => config.cors_origins.push(value()?),
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    tokio::runtime::Runtime::new()?.block_on(serve(config, Default::default()))
}
