//! matcher-http: the REST facade over `matcher-core`, the coordinator
//! console and the `matcher` binary. No matching logic lives here.

// The OpenAPI document is one large `json!` literal.
#![recursion_limit = "512"]

pub mod console;
pub mod http;
