//! Placeholder: the HTTP layer (issue 6) is being written.
