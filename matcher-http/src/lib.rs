//! matcher-http: the REST facade over `matcher-core` and the `matcher` binary.
//! No matching logic lives here.

pub mod http;
